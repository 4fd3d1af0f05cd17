using System.Reflection;
using Loom.Conformance;
using Loom.Emit;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Scheduling;
using Loom.Tests.Models;
using Loom.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Loom.Tests.Emitting;

/// <summary>
/// <c>loom emit</c> writes C# that Roslyn compiles against Loom.dll alone, and the compiled program gives
/// exactly (bit for bit) what a sequential one-thread session gives, run after run.
/// </summary>
public sealed class EmittedProgramTests
{
    private static readonly LoomSessionOptions OneThread = new() { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential };

    [Fact]
    public void HandBuiltBranchesCompileWithWaitsAndMatchTheSession()
    {
        using var dir = new TempDir();
        var path = dir.File("branches.onnx");
        OnnxExporter.Save(Branches(), path);
        var settings = new EmitSettings("Branches", 2, new Dictionary<string, long>()) { InterOpOnly = true, MachineProfile = MachineProfile.Fixed(2) };
        var source = ProgramEmitter.Emit(path, settings);
        // The two branches run on two workers; the join waits for the other worker's branch.
        Assert.Contains("private void Stage0Worker1()", source);
        Assert.Contains("WaitFor(", source);
        Assert.Contains("Signal(", source);
        var x = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => (i - 32) / 7f).ToArray(), 4, 16);
        AssertMatches(path, source, settings, new() { ["x"] = x });
    }

    public static TheoryData<string> LightModels() => new("squeezenet", "inception_v1");

    [Theory, MemberData(nameof(LightModels))]
    public void LightModelProgramsMatchTheSessionBitForBit(string name)
    {
        var light = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        using var dir = new TempDir();
        var path = dir.File(name + ".onnx");
        OnnxExporter.Save(LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(light), seed: 11), path);
        foreach (var interOpOnly in new[] { false, true })
        {
            var settings = new EmitSettings("Net", 2, new Dictionary<string, long>()) { InterOpOnly = interOpOnly, MachineProfile = MachineProfile.Fixed(2) };
            var source = ProgramEmitter.Emit(path, settings);
            // Inter-op only always runs the branches side by side; the mixed schedule may rightly run every
            // node wide (it did for SqueezeNet once fused convolutions were costed as convolutions).
            if (interOpOnly) Assert.Contains("_rt.Concurrently(", source);
            using var session = LoomSession.Load(path, OneThread);
            var input = session.Inputs.Single();
            AssertMatches(path, source, settings, new() { [input.Name] = OrtOracle.RandomInput(7, 1, 3, 224, 224) });
        }
    }

    [Fact]
    public void AProgramRefusesAModelItWasNotEmittedFrom()
    {
        using var dir = new TempDir();
        var path = dir.File("branches.onnx");
        OnnxExporter.Save(Branches(), path);
        var source = ProgramEmitter.Emit(path, new EmitSettings("Branches", 2, new Dictionary<string, long>()) { MachineProfile = MachineProfile.Fixed(2) });
        var other = dir.File("other.onnx");
        var g = new Graph("other", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(4, 16)))], [new ValueInfo("y", null)], [new Node("Relu", ["x"], ["y"])]);
        OnnxExporter.Save(new Model(g, new Dictionary<string, int> { [""] = 17 }), other);
        var type = Compile(source).GetType("LoomEmitted.Branches")!;
        var e = Assert.Throws<TargetInvocationException>(() => Activator.CreateInstance(type, other));
        Assert.IsType<GraphException>(e.InnerException);
        Assert.Contains("fingerprint", e.InnerException!.Message);
    }

    [Fact]
    public void TheCommandWritesTheFileWhole()
    {
        using var dir = new TempDir();
        var path = dir.File("branches.onnx");
        OnnxExporter.Save(Branches(), path);
        var (exit, output, err) = CliRunner.Run("emit", path, "--out", dir.File("My-Net.cs"), "--threads", "2");
        Assert.True(exit == 0, err);
        Assert.Contains("LoomEmitted.My_Net", output);
        Assert.Contains("public sealed class My_Net", File.ReadAllText(dir.File("My-Net.cs")));
        Assert.Equal(["branches.onnx", "My-Net.cs"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Compiles and runs the program twice (the second run reuses buffers) and compares with a one-thread session.</summary>
    private static void AssertMatches(string modelPath, string source, EmitSettings settings, Dictionary<string, LoomValue> inputs)
    {
        var type = Compile(source).GetType($"{settings.Namespace}.{settings.ClassName}")!;
        var run = type.GetMethod("Run")!;
        using var program = (IDisposable)Activator.CreateInstance(type, modelPath)!;
        using var session = LoomSession.Load(modelPath, OneThread);
        using var expected = session.Run(inputs);
        for (int round = 0; round < 2; round++)
        {
            using var actual = (RunResult)run.Invoke(program, [inputs])!;
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Name, actual[i].Name);
                var (e, a) = ((Tensor)expected[i].Value, (Tensor)actual[i].Value);
                Assert.Equal(e.Shape.ToArray(), a.Shape.ToArray());
                Assert.True(e.ToArray<float>().SequenceEqual(a.ToArray<float>()), $"output {expected[i].Name} differs in round {round}");
            }
        }
    }

    /// <summary>Roslyn, referencing only the framework and Loom.dll.</summary>
    private static Assembly Compile(string source)
    {
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = framework.Append(typeof(LoomSession).Assembly.Location).Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Emitted" + Guid.NewGuid().ToString("N")[..8],
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Release));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        var problems = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(result.Success && problems.Count == 0, string.Join("\n", problems));
        return Assembly.Load(image.ToArray());
    }

    /// <summary>x → two chains of three element-wise nodes → Add: two branches and a join.</summary>
    private static Model Branches()
    {
        var nodes = new List<Node>
        {
            new("Relu", ["x"], ["a0"]), new("Sigmoid", ["a0"], ["a1"]), new("Tanh", ["a1"], ["a2"]),
            new("Neg", ["x"], ["b0"]), new("Exp", ["b0"], ["b1"]), new("Sqrt", ["b1"], ["b2"]),
            new("Add", ["a2", "b2"], ["y"]),
        };
        var g = new Graph("branches", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(4, 16)))], [new ValueInfo("y", null)], nodes);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }
}
