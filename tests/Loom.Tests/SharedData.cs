namespace Loom.Tests;

/// <summary>
/// Finds the workplace's shared data (<c>../shared</c> beside the repository, or <c>$LOOM_SHARED</c>).
/// Tests that need it call <see cref="Require"/>, which skips them with a visible reason when it is absent.
/// </summary>
public static class SharedData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root { get; } = Environment.GetEnvironmentVariable("LOOM_SHARED") is { Length: > 0 } env
        ? Path.GetFullPath(env)
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static bool Available => Directory.Exists(Root);

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The shared path, or a skipped test naming what is missing.</summary>
    public static string Require(params string[] parts)
    {
        var p = Path_(parts);
        if (!File.Exists(p) && !Directory.Exists(p))
            Assert.Skip($"shared data not found at {p} (set LOOM_SHARED to the shared folder)");
        return p;
    }

    private static string FindRepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Loom.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? Directory.GetCurrentDirectory();
    }
}
