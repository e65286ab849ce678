from rnnviz.app import main

main()
