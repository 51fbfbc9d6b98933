// A small typed client over fetch, written against the types generated from openapi.json.
// `make ts-check` regenerates generated/studyhub.d.ts and runs `tsc --noEmit`: a rename or a
// removed field in the API breaks this file, and so the build.
import type { components, paths } from "../generated/studyhub";

type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorBody"];
export type TokenResponse = Schemas["TokenResponse"];
export type CourseDetail = Schemas["CourseDetail"];
export type CourseStatus = Schemas["CourseStatus"];

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type LoginBody = Json<paths["/api/v1/auth/login"]["post"]["requestBody"]>;
type CourseCreate = Json<paths["/api/v1/courses"]["post"]["requestBody"]>;
type CourseList = Json<paths["/api/v1/courses"]["get"]["responses"][200]>;
type WeekCreate = Json<paths["/api/v1/courses/{course_id}/weeks"]["post"]["requestBody"]>;
type RateLimited = Json<paths["/api/v1/courses"]["get"]["responses"][429]>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${body.error}: ${body.message} (request ${body.request_id})`);
  }
}

export class StudyHub {
  private token: string | null = null;

  constructor(private readonly baseUrl = "http://127.0.0.1:5000") {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new ApiError(response.status, (await response.json()) as ErrorBody);
    return (await response.json()) as T;
  }

  async login(body: LoginBody): Promise<TokenResponse> {
    const tokens = await this.call<TokenResponse>("POST", "/api/v1/auth/login", body);
    this.token = tokens.access_token;
    return tokens;
  }

  courses(page = 1, perPage = 10): Promise<CourseList> {
    return this.call("GET", `/api/v1/courses?page=${page}&per_page=${perPage}`);
  }

  createCourse(body: CourseCreate): Promise<CourseDetail> {
    return this.call("POST", "/api/v1/courses", body);
  }

  addWeek(courseId: number, body: WeekCreate): Promise<Schemas["WeekOut"]> {
    return this.call("POST", `/api/v1/courses/${courseId}/weeks`, body);
  }
}

export async function example(api: StudyHub): Promise<string[]> {
  await api.login({ username: "teacher1", password: "secret-password" });
  const status: CourseStatus = "published";
  const course = await api.createCourse({ code: "TS101", name: "Typed", status });
  await api.addWeek(course.id, { number: 1, title: "Week one" });
  const list = await api.courses();
  const limited: RateLimited | undefined = undefined;
  void limited;
  return list.courses.map((c) => `${c.code} ${c.name} (${list.pagination.total})`);
}

// The generated types are real: these must be rejected by the compiler.
// @ts-expect-error "deleted" is not a CourseStatus
export const notAStatus: CourseStatus = "deleted";
// @ts-expect-error a course needs a code
export const noCode: CourseCreate = { name: "Nameless code" };
