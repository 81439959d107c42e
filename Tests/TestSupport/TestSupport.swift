// Test support: HTTP test server, temporary directories, the tradejob binary runner.
