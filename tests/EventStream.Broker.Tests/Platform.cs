using System.Runtime.Versioning;

// The tests run a real PostgreSQL from the machine's binaries, as the broker does: Unix only.
[assembly: UnsupportedOSPlatform("windows")]
