using Loom.IR;
using static Loom.Tests.Kernels.ControlFlowModels;

namespace Loom.Tests.Kernels;

/// <summary>Optional, OptionalHasElement and OptionalGetElement.</summary>
public sealed class OptionalTests
{
    [Fact]
    public void A_wrapped_tensor_has_its_element()
    {
        var g = new Graph("g", [V("x", F32(2))], [V("opt", null), V("has", null), V("back", null)],
        [
            N("Optional", ["x"], ["opt"]),
            N("OptionalHasElement", ["opt"], ["has"]),
            N("OptionalGetElement", ["opt"], ["back"]),
        ]);
        var r = Run(g, 18, ("x", Tensor.FromArray(new float[] { 1, 2 }, 2)));
        Assert.True(((OptionalValue)r[0]).HasValue);
        Assert.True(((Tensor)r[1]).AsSpan<bool>()[0]);
        Assert.Equal([1f, 2], ((Tensor)r[2]).ToArray<float>());
        Assert.Equal("float32[2]", Infer(g, 18).Graph.ValueTypes["back"].ToString());
    }

    [Fact]
    public void An_empty_optional_has_no_element_and_getting_it_fails()
    {
        var seqType = new SequenceType(F32(3));
        var empty = N("Optional", [], ["opt"], IR.Attribute.Type("type", seqType));
        var has = new Graph("g", [], [V("has", null)], [empty, N("OptionalHasElement", ["opt"], ["has"])]);
        Assert.False(((Tensor)Run(has, 18)[0]).AsSpan<bool>()[0]);

        var get = new Graph("g", [], [V("x", null)], [empty, N("OptionalGetElement", ["opt"], ["x"])]);
        Assert.Equal(seqType.ToString(), Infer(get, 18).Graph.ValueTypes["x"].ToString());
        Assert.Contains("empty", Assert.Throws<ExecutionException>(() => Run(get, 18)).Message);
    }

    [Fact]
    public void Opset_18_accepts_plain_and_omitted_inputs()
    {
        var g = new Graph("g", [V("x", F32(2))], [V("has_x", null), V("has_none", null), V("x_back", null)],
        [
            N("OptionalHasElement", ["x"], ["has_x"]),
            N("OptionalHasElement", [""], ["has_none"]),
            N("OptionalGetElement", ["x"], ["x_back"]),
        ]);
        var r = Run(g, 18, ("x", Tensor.FromArray(new float[] { 3, 4 }, 2)));
        Assert.True(((Tensor)r[0]).AsSpan<bool>()[0]);
        Assert.False(((Tensor)r[1]).AsSpan<bool>()[0]);
        Assert.Equal([3f, 4], ((Tensor)r[2]).ToArray<float>());
    }
}
