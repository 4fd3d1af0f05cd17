using System.Diagnostics;
using Google.Protobuf;
using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Import.Onnx.Proto;

namespace Loom.Tests.Import;

/// <summary>
/// Byte mutations mostly break the protobuf itself. These mutants stay well-formed protobuf but carry
/// absurd content — huge or negative attribute values and dims, wrong data types, rewired inputs,
/// swapped operators — so they reach shape inference and the kernels. Same rule: a LoomException or a
/// result, nothing else, and no hang.
/// </summary>
public sealed class StructuredFuzzTests
{
    private const int Mutations = 1500;
    private static readonly long[] Extremes = [-1, 0, 1, 2, 3, -2, 7, 1 << 20, int.MaxValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 1L << 40];

    [Fact]
    public void SemanticMutantsFailCleanly()
    {
        var node = SharedData.Require("onnx-backend-tests", "node");
        var cases = ConformanceRunner.FindCases(node).Where(Directory.Exists).ToList();
        var opTypes = cases.Take(400).Select(c => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(c, "model.onnx"))))
            .SelectMany(m => m.Graph.Node.Select(n => n.OpType)).Distinct().ToArray();
        var rng = new Random(1126);
        var options = new LoomSessionOptions { MaxTensorBytes = 64 << 20 };
        var problems = new List<string>();
        int loaded = 0, ran = 0;
        for (int m = 0; m < Mutations && problems.Count < 10; m++)
        {
            var dir = cases[rng.Next(cases.Count)];
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
            Mutate(model, rng, opTypes);
            var sw = Stopwatch.StartNew();
            try
            {
                using var session = LoomSession.Load(model.ToByteArray(), options);
                loaded++;
                var inputs = new Dictionary<string, LoomValue>();
                for (int k = 0; k < session.Inputs.Length; k++)
                {
                    var file = Path.Combine(dir, "test_data_set_0", $"input_{k}.pb");
                    if (File.Exists(file)) inputs[session.Inputs[k].Name] = ValueProtos.ReadFile(file, session.Inputs[k].Type, options);
                }
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var _ = session.Run(inputs, cts.Token);
                ran++;
            }
            catch (LoomException) { }
            catch (OperationCanceledException) { problems.Add($"mutant {m} of {Path.GetFileName(dir)} hung"); }
            catch (Exception e) { problems.Add($"mutant {m} of {Path.GetFileName(dir)}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
            if (sw.Elapsed > TimeSpan.FromSeconds(20)) problems.Add($"mutant {m} of {Path.GetFileName(dir)} took {sw.Elapsed}");
        }
        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
        // Most mutants must get past the loader, or this test would only exercise the same checks as the byte fuzzer.
        Assert.True(loaded > Mutations / 3, $"only {loaded} of {Mutations} mutants loaded ({ran} ran)");
        if (Environment.GetEnvironmentVariable("LOOM_FUZZ_VERBOSE") == "1") Console.WriteLine($"{loaded} loaded, {ran} ran");
    }

    private static void Mutate(ModelProto model, Random rng, string[] opTypes)
    {
        var g = model.Graph;
        var nodes = g.Node;
        int edits = 1 + rng.Next(3);
        for (int e = 0; e < edits; e++)
        {
            switch (rng.Next(8))
            {
                case 0 when nodes.Count > 0:
                {
                    var attrs = nodes[rng.Next(nodes.Count)].Attribute;
                    if (attrs.Count == 0) break;
                    var a = attrs[rng.Next(attrs.Count)];
                    if (a.HasI) a.I = Pick(rng);
                    else if (a.Ints.Count > 0) a.Ints[rng.Next(a.Ints.Count)] = Pick(rng);
                    else if (a.HasF) a.F = rng.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => -1e30f };
                    else if (a.Floats.Count > 0) a.Floats[rng.Next(a.Floats.Count)] = float.NaN;
                    break;
                }
                case 1 when g.Initializer.Count > 0:
                {
                    var t = g.Initializer[rng.Next(g.Initializer.Count)];
                    if (t.Dims.Count > 0) t.Dims[rng.Next(t.Dims.Count)] = Pick(rng);
                    break;
                }
                case 2 when g.Input.Count > 0:
                {
                    var shape = g.Input[rng.Next(g.Input.Count)].Type?.TensorType?.Shape;
                    if (shape is { Dim.Count: > 0 }) shape.Dim[rng.Next(shape.Dim.Count)].DimValue = Pick(rng);
                    break;
                }
                case 3:
                {
                    var vis = g.Input.Concat(g.Output).Where(v => v.Type?.TensorType is not null).ToList();
                    if (vis.Count > 0) vis[rng.Next(vis.Count)].Type.TensorType.ElemType = rng.Next(0, 28);
                    break;
                }
                case 4 when nodes.Count > 0:
                {
                    var n = nodes[rng.Next(nodes.Count)];
                    var names = g.Input.Select(i => i.Name).Concat(g.Initializer.Select(i => i.Name)).Concat(nodes.SelectMany(x => x.Output)).ToList();
                    if (n.Input.Count > 0 && names.Count > 0) n.Input[rng.Next(n.Input.Count)] = rng.Next(4) == 0 ? "" : names[rng.Next(names.Count)];
                    break;
                }
                case 5 when nodes.Count > 0:
                    nodes[rng.Next(nodes.Count)].OpType = opTypes[rng.Next(opTypes.Length)];
                    break;
                case 6 when nodes.Count > 0:
                {
                    var constants = nodes.Where(n => n.OpType == "Constant" && n.Attribute.Count > 0 && n.Attribute[0].T is not null).ToList();
                    if (constants.Count == 0) break;
                    var t = constants[rng.Next(constants.Count)].Attribute[0].T;
                    if (t.Int64Data.Count > 0) t.Int64Data[rng.Next(t.Int64Data.Count)] = Pick(rng);
                    else if (t.RawData.Length >= 8 && t.DataType == 7)
                    {
                        var raw = t.RawData.ToByteArray();
                        BitConverter.TryWriteBytes(raw.AsSpan(8 * rng.Next(raw.Length / 8)), Pick(rng));
                        t.RawData = ByteString.CopyFrom(raw);
                    }
                    break;
                }
                case 7 when model.OpsetImport.Count > 0:
                    model.OpsetImport[0].Version = rng.Next(1, 30);
                    break;
            }
        }
    }

    private static long Pick(Random rng) => rng.Next(3) == 0 ? rng.Next(-5, 70) : Extremes[rng.Next(Extremes.Length)];
}
