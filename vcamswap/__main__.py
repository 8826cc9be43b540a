from vcamswap.cli.main import main

raise SystemExit(main())
