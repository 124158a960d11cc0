using EventStream.Broker.Storage;

namespace EventStream.Broker.Tests.Storage;

public sealed class MigrationSourceTests
{
    [Fact]
    public void Embedded_migrations_load_in_version_order()
    {
        var migrations = MigrationSource.Load();

        Assert.NotEmpty(migrations);
        Assert.Equal(new Migration(1, "schema", migrations[0].Sql, migrations[0].Checksum), migrations[0]);
        Assert.Equal(migrations.OrderBy(m => m.Version).Select(m => m.Version), migrations.Select(m => m.Version));
        Assert.Equal(migrations.Count, migrations.Select(m => m.Version).Distinct().Count());
    }

    [Theory]
    [InlineData("schema.sql")]
    [InlineData("x01_schema.sql")]
    [InlineData("000_schema.sql")]
    public void Badly_named_file_is_rejected(string fileName)
    {
        var e = Assert.Throws<InvalidOperationException>(() => MigrationSource.Parse(fileName, "SELECT 1;"));
        Assert.Contains(fileName, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checksum_ignores_line_ending_style()
    {
        Assert.Equal(MigrationSource.Checksum("SELECT 1;\nSELECT 2;\n"), MigrationSource.Checksum("SELECT 1;\r\nSELECT 2;\r\n"));
        Assert.NotEqual(MigrationSource.Checksum("SELECT 1;"), MigrationSource.Checksum("SELECT 2;"));
    }
}
