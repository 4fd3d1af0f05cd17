using Loom.IR;
using static Loom.Tests.Kernels.ControlFlowModels;

namespace Loom.Tests.Kernels;

/// <summary>
/// The random generators: values cannot be compared with other runtimes, so these check dtype, shape,
/// ranges, rough statistics, and that a seed makes runs repeatable.
/// </summary>
public sealed class RandomTests
{
    private static Tensor RunTwice(Graph g, int opset, out Tensor second, params (string, LoomValue)[] feeds)
    {
        using var session = Session(g, opset);
        var dict = feeds.ToDictionary(f => f.Item1, f => f.Item2);
        using var a = session.Run(dict);
        using var b = session.Run(dict);
        second = (Tensor)b[0].Value;
        return (Tensor)a[0].Value;
    }

    private static Graph Generator(string op, params IR.Attribute[] attributes) =>
        new("g", [], [V("y", null)], [N(op, [], ["y"], attributes)]);

    [Fact]
    public void RandomUniform_fills_its_shape_within_bounds_and_a_seed_repeats_it()
    {
        var g = Generator("RandomUniform", IR.Attribute.Ints("shape", [3, 100]), IR.Attribute.Float("low", -2), IR.Attribute.Float("high", 5),
            IR.Attribute.Int("dtype", (long)DataType.Double), IR.Attribute.Float("seed", 7));
        var a = RunTwice(g, 13, out var b);
        Assert.Equal(DataType.Double, a.DataType);
        Assert.Equal([3, 100], a.Shape.ToArray());
        Assert.All(a.ToArray<double>(), v => Assert.InRange(v, -2, 5));
        Assert.Equal(a.ToArray<double>(), b.ToArray<double>());
        Assert.Equal("float64[3,100]", Infer(g, 13).Graph.ValueTypes["y"].ToString());
    }

    [Fact]
    public void Without_a_seed_runs_differ()
    {
        var a = RunTwice(Generator("RandomUniform", IR.Attribute.Ints("shape", [64])), 13, out var b);
        Assert.Equal(DataType.Float, a.DataType);
        Assert.NotEqual(a.ToArray<float>(), b.ToArray<float>());
    }

    [Fact]
    public void RandomNormal_has_the_requested_mean_and_scale()
    {
        var y = RunTwice(Generator("RandomNormal", IR.Attribute.Ints("shape", [20000]), IR.Attribute.Float("mean", 3), IR.Attribute.Float("scale", 2),
            IR.Attribute.Float("seed", 1)), 13, out _).ToArray<float>();
        double mean = y.Average(v => (double)v);
        double std = Math.Sqrt(y.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 2.95, 3.05);
        Assert.InRange(std, 1.95, 2.05);
    }

    [Fact]
    public void Like_variants_take_the_input_shape_and_dtype_unless_dtype_is_given()
    {
        var x = Tensor.Zeros(DataType.Float16, [2, 3]);
        var g = new Graph("g", [V("x", new TensorType(DataType.Float16, Shape.Of(2, 3)))], [V("n", null), V("u", null)],
        [
            N("RandomNormalLike", ["x"], ["n"]),
            N("RandomUniformLike", ["x"], ["u"], IR.Attribute.Int("dtype", (long)DataType.Double)),
        ]);
        var r = Run(g, 13, ("x", x));
        Assert.Equal(DataType.Float16, ((Tensor)r[0]).DataType);
        Assert.Equal([2, 3], ((Tensor)r[0]).Shape.ToArray());
        Assert.Equal(DataType.Double, ((Tensor)r[1]).DataType);
    }

    [Fact]
    public void Bernoulli_with_certain_probabilities_is_exact()
    {
        var g = new Graph("g", [V("p", F32(4))], [V("y", null)], [N("Bernoulli", ["p"], ["y"], IR.Attribute.Int("dtype", (long)DataType.Int32))]);
        var y = (Tensor)Run(g, 15, ("p", Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4)))[0];
        Assert.Equal([0, 1, 1, 0], y.ToArray<int>());
    }

    [Fact]
    public void Multinomial_draws_only_classes_with_probability()
    {
        // Row 0 can only draw class 2, row 1 only class 0 (the others have log-probability -inf).
        float ninf = float.NegativeInfinity;
        var logits = Tensor.FromArray(new float[] { ninf, ninf, 0.5f, 3, ninf, ninf }, 2, 3);
        var g = new Graph("g", [V("x", F32(2, 3))], [V("y", null)],
            [N("Multinomial", ["x"], ["y"], IR.Attribute.Int("sample_size", 5), IR.Attribute.Int("dtype", (long)DataType.Int64))]);
        var y = (Tensor)Run(g, 13, ("x", logits))[0];
        Assert.Equal([2, 5], y.Shape.ToArray());
        Assert.Equal([2L, 2, 2, 2, 2, 0, 0, 0, 0, 0], y.ToArray<long>());
    }

    [Fact]
    public void Multinomial_follows_the_probabilities()
    {
        // log(1) and log(3): class 1 should come up about three times in four.
        var logits = Tensor.FromArray(new float[] { 0, MathF.Log(3) }, 1, 2);
        var g = new Graph("g", [V("x", F32(1, 2))], [V("y", null)],
            [N("Multinomial", ["x"], ["y"], IR.Attribute.Int("sample_size", 10000), IR.Attribute.Float("seed", 3))]);
        var y = ((Tensor)Run(g, 13, ("x", logits))[0]).ToArray<int>();
        Assert.InRange(y.Count(v => v == 1) / 10000.0, 0.72, 0.78);
    }
}
