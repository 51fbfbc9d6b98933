from studyhub.cli import main

main()
