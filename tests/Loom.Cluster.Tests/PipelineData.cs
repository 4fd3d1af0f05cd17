using Loom.Streams.Models;
using Loom.Tests;

namespace Loom.Cluster.Tests;

/// <summary>
/// Light models and made-up inputs for pipeline tests, and the oracle: a plain <see cref="LoomSession"/> (default
/// options, all cores) run on each input by itself. Pipeline outputs must match it within rtol 1e-5, as the
/// single-process <c>ModelStream</c> tests require.
/// </summary>
internal static class PipelineData
{
    public static string Light(string name) => SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");

    public static List<IReadOnlyDictionary<string, LoomValue>> Items(string model, int count)
    {
        using var session = LoomSession.Load(model);
        return StreamInputs.Items(session.Inputs, new Dictionary<string, long>(), count).Select(d => (IReadOnlyDictionary<string, LoomValue>)d).ToList();
    }

    /// <summary>Each item's outputs from a separate session run: name → (shape, values).</summary>
    public static List<Dictionary<string, (int[] Shape, float[] Values)>> Expected(string model, IReadOnlyList<IReadOnlyDictionary<string, LoomValue>> items)
    {
        using var session = LoomSession.Load(model);
        return items.Select(item =>
        {
            using var r = session.Run(item);
            return r.ToDictionary(o => o.Name, o => (((Tensor)o.Value).Shape.ToArray(), ((Tensor)o.Value).ToArray<float>()));
        }).ToList();
    }

    public static void AssertClose((int[] Shape, float[] Values) expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape.ToArray());
        var a = actual.ToArray<float>();
        int bad = 0;
        for (int i = 0; i < a.Length; i++)
            if (!(Math.Abs(a[i] - expected.Values[i]) <= 1e-6 + 1e-5 * Math.Abs(expected.Values[i]))) bad++;
        Assert.True(bad == 0, $"{what}: {bad} of {a.Length} elements differ from a plain session's run");
    }
}
