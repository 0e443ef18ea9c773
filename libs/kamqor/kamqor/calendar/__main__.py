from kamqor.calendar.cli import main

raise SystemExit(main())
