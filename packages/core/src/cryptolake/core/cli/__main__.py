from cryptolake.core.cli import main

main()
