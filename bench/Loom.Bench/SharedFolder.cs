namespace Loom.Bench;

/// <summary>
/// The shared data folder (conformance data, models, StreamIt programs): <c>LOOM_SHARED</c>, or <c>../shared</c> from the
/// working directory, as an absolute path (a child process run in another folder, such as the StreamIt rival's script,
/// must still find it).
/// </summary>
internal static class SharedFolder
{
    public static string Root { get; } =
        Path.GetFullPath(Environment.GetEnvironmentVariable("LOOM_SHARED") is { Length: > 0 } s ? s : "../shared");
}
