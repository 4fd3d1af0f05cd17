namespace Loom.Tests.Conformance;

/// <summary>
/// Conformance cases Loom does not pass yet, each with the reason. Keep this list short and honest:
/// a case listed here is reported as skipped with its reason, and fails the suite once it passes.
/// </summary>
public static class KnownFailures
{
    public static readonly IReadOnlyDictionary<string, string> Reasons = new Dictionary<string, string>
    {
    };
}
