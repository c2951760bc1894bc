from imu.cli import main

raise SystemExit(main())
