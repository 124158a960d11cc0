using System.Runtime.Versioning;

// The tests run the broker on a real PostgreSQL from the machine's binaries, and send Unix signals: Unix only.
[assembly: UnsupportedOSPlatform("windows")]
