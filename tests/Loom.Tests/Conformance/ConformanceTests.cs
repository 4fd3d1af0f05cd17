using Loom.Conformance;

namespace Loom.Tests.Conformance;

/// <summary>
/// The ONNX project's conformance cases (../shared/onnx-backend-tests), one test each. Cases using a
/// string-only or training-only operator are skipped with that reason; cases listed in
/// <see cref="KnownFailures"/> are skipped with their reason as long as they still fail (a listed
/// case that starts passing fails here, so the list only shrinks).
/// </summary>
public sealed class ConformanceTests
{
    public static TheoryData<string> Cases(string suite)
    {
        var data = new TheoryData<string>();
        var dir = SharedData.Path_("onnx-backend-tests", suite);
        if (!Directory.Exists(dir)) { data.Add($"(shared data absent: {dir})"); return data; }
        foreach (var c in ConformanceRunner.FindCases(dir)) data.Add(Path.GetRelativePath(SharedData.Root, c));
        return data;
    }

    public static TheoryData<string> Node => Cases("node");
    public static TheoryData<string> PytorchConverted => Cases("pytorch-converted");
    public static TheoryData<string> PytorchOperator => Cases("pytorch-operator");
    public static TheoryData<string> Simple => Cases("simple");
    public static TheoryData<string> Light => Cases("light");

    [Theory, MemberData(nameof(Node))] public void NodeCase(string c) => Check(c);
    [Theory, MemberData(nameof(PytorchConverted))] public void PytorchConvertedCase(string c) => Check(c);
    [Theory, MemberData(nameof(PytorchOperator))] public void PytorchOperatorCase(string c) => Check(c);
    [Theory, MemberData(nameof(Simple))] public void SimpleCase(string c) => Check(c);
    [Theory, MemberData(nameof(Light))] public void LightModel(string c) => Check(c);

    private static void Check(string relative)
    {
        if (relative.StartsWith("(shared data absent", StringComparison.Ordinal)) Assert.Skip(relative);
        var path = SharedData.Require(relative);
        var result = ConformanceRunner.Run(path, TimeSpan.FromMinutes(2));
        var name = result.Name;
        if (KnownFailures.Reasons.TryGetValue(name, out var known))
        {
            Assert.True(result.Status != CaseStatus.Passed, $"{name} now passes: remove it from KnownFailures");
            Assert.Skip($"known failure: {known} (now: {result.Reason})");
        }
        if (result.Status == CaseStatus.Skipped) Assert.Skip(result.Reason!);
        Assert.True(result.Status == CaseStatus.Passed, $"{name}: {result.Reason}");
    }
}
