pytest_plugins = ["syncer.emulator.testing"]
