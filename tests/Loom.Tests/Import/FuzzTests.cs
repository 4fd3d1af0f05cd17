using System.Diagnostics;
using Loom.Conformance;
using Loom.Import.Onnx;

namespace Loom.Tests.Import;

/// <summary>
/// Mutates the bytes of conformance models (seeded, so every CI run is the same) and loads and runs
/// each mutant on its case's inputs. Whatever the damage, Loom must answer with a LoomException or a
/// result: no crash, no hang, no other exception type.
/// </summary>
public sealed class FuzzTests
{
    private const int Mutations = 2000;
    private static readonly TimeSpan PerMutantLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public void MutatedModelsFailCleanly()
    {
        var node = SharedData.Require("onnx-backend-tests", "node");
        var cases = ConformanceRunner.FindCases(node).Concat(ConformanceRunner.FindCases(Path.Combine(node, "..", "pytorch-converted")))
            .Where(c => Directory.Exists(c)).ToList();
        var rng = new Random(20261126);
        var options = new LoomSessionOptions { MaxTensorBytes = 64 << 20 };
        var problems = new List<string>();
        int loaded = 0, ran = 0;
        for (int m = 0; m < Mutations && problems.Count < 10; m++)
        {
            var dir = cases[rng.Next(cases.Count)];
            var bytes = Mutate(File.ReadAllBytes(Path.Combine(dir, "model.onnx")), rng);
            var sw = Stopwatch.StartNew();
            try
            {
                using var session = LoomSession.Load(bytes, options);
                loaded++;
                var inputs = new Dictionary<string, LoomValue>();
                var required = session.Inputs;
                for (int k = 0; k < required.Length; k++)
                {
                    var file = Path.Combine(dir, "test_data_set_0", $"input_{k}.pb");
                    if (File.Exists(file)) inputs[required[k].Name] = ValueProtos.ReadFile(file, required[k].Type, options);
                }
                using var cts = new CancellationTokenSource(PerMutantLimit);
                using var _ = session.Run(inputs, cts.Token);
                ran++;
            }
            catch (LoomException e) { if (Environment.GetEnvironmentVariable("LOOM_FUZZ_VERBOSE") == "1") Console.WriteLine($"{e.GetType().Name}: {e.Message[..Math.Min(120, e.Message.Length)]}"); }
            catch (OperationCanceledException) { problems.Add($"mutant {m} of {Path.GetFileName(dir)} hung for {PerMutantLimit}"); }
            catch (Exception e) { problems.Add($"mutant {m} of {Path.GetFileName(dir)}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
            if (sw.Elapsed > 2 * PerMutantLimit) problems.Add($"mutant {m} of {Path.GetFileName(dir)} took {sw.Elapsed}");
        }
        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
        Assert.True(loaded > Mutations / 10, $"only {loaded} of {Mutations} mutants loaded: the mutations are too destructive to reach the loader's deeper checks");
        TestContext.Current.SendDiagnosticMessage($"{Mutations} mutants: {loaded} loaded, {ran} ran to completion");
    }

    /// <summary>
    /// A few random edits — mostly one, so that many mutants still parse and reach the deeper checks
    /// (types, shapes, attributes, kernels): byte overwrite, bit flip, deletion, duplication, truncation,
    /// extreme byte values (large varints, negative sizes).
    /// </summary>
    private static byte[] Mutate(byte[] input, Random rng)
    {
        var b = new List<byte>(input);
        int roll = rng.Next(10);
        int edits = roll < 7 ? 1 : roll < 9 ? 2 : 3 + rng.Next(6);
        for (int e = 0; e < edits && b.Count > 1; e++)
        {
            int at = rng.Next(b.Count);
            switch (rng.Next(12))
            {
                case 0 or 1 or 2: b[at] = (byte)rng.Next(256); break;
                case 3 or 4 or 5: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 6 or 7: b[at] = (byte)(b[at] + rng.Next(-3, 4)); break;
                case 8: b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.Next(4))); break;
                case 9: { int len = Math.Min(b.Count - at, 1 + rng.Next(16)); b.InsertRange(at, b.GetRange(at, len)); break; }
                case 10: b.RemoveRange(at, b.Count - at); break;
                case 11: b[at] = (byte)(rng.Next(2) == 0 ? 0xff : 0x7f); break;
            }
        }
        return b.ToArray();
    }
}
