from finalexam.cli import main

raise SystemExit(main())
