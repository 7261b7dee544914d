from healthscore.cli.app import main

main()
