from nenguide.cli import main

main()
