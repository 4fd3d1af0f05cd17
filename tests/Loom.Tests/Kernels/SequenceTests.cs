using Loom.IR;
using static Loom.Tests.Kernels.ControlFlowModels;

namespace Loom.Tests.Kernels;

/// <summary>The sequence operators on small models with hand-computed results.</summary>
public sealed class SequenceTests
{
    private static Tensor Vec(params long[] v) => Tensor.FromArray(v, v.Length);

    private static long[] Values(LoomValue v) => ((Tensor)v).ToArray<long>();

    [Fact]
    public void Insert_erase_at_and_length_follow_onnx_positions()
    {
        // [a, b] → insert c at -1 → [a, c, b] → erase 0 → [c, b] → at -1 = b; length 2.
        var g = new Graph("g", [V("a", I64(1)), V("b", I64(2)), V("c", I64(3))], [V("seq", null), V("last", null), V("len", null)],
        [
            N("SequenceConstruct", ["a", "b"], ["ab"]),
            Const("minus1", Tensor.Scalar(-1L)),
            Const("zero", Tensor.Scalar(0)),
            N("SequenceInsert", ["ab", "c", "minus1"], ["acb"]),
            N("SequenceErase", ["acb", "zero"], ["seq"]),
            N("SequenceAt", ["seq", "minus1"], ["last"]),
            N("SequenceLength", ["seq"], ["len"]),
        ]);
        var r = Run(g, 11, ("a", Vec(1)), ("b", Vec(2, 2)), ("c", Vec(3, 3, 3)));
        var seq = (TensorSequence)r[0];
        Assert.Equal([3L, 3, 3], seq[0].ToArray<long>());
        Assert.Equal([2L, 2], seq[1].ToArray<long>());
        Assert.Equal([2L, 2], Values(r[1]));
        Assert.Equal([2L], Values(r[2]));
    }

    [Fact]
    public void SequenceAt_out_of_range_is_an_error_naming_the_node()
    {
        var g = new Graph("g", [V("a", I64(1)), V("p", I64())], [V("x", null)],
            [N("SequenceConstruct", ["a"], ["s"]), N("SequenceAt", ["s", "p"], ["x"])]);
        Assert.Equal([5L], Values(Run(g, 11, ("a", Vec(5)), ("p", Tensor.Scalar(-1L)))[0]));
        var e = Assert.Throws<ExecutionException>(() => Run(g, 11, ("a", Vec(5)), ("p", Tensor.Scalar(1L))));
        Assert.Contains("out of range", e.Message);
        Assert.Contains("SequenceAt", e.Message);
    }

    [Fact]
    public void Tensors_taken_from_a_sequence_get_their_own_symbols()
    {
        // Elements [2,3] and [2,4]: the sequence's element type is [2,?]; two SequenceAt of it must not
        // share the symbol, since they yield different sizes in one run.
        var g = new Graph("g", [V("a", F32(2, 3)), V("b", F32(2, 4))], [V("x", null), V("y", null)],
        [
            N("SequenceConstruct", ["a", "b"], ["s"]),
            Const("zero", Tensor.Scalar(0L)), Const("one", Tensor.Scalar(1L)),
            N("SequenceAt", ["s", "zero"], ["x"]), N("SequenceAt", ["s", "one"], ["y"]),
        ]);
        var types = Infer(g, 11).Graph.ValueTypes;
        var x = ((TensorType)types["x"]).Shape!;
        var y = ((TensorType)types["y"]).Shape!;
        Assert.Equal(Dim.Of(2), x[0]);
        Assert.NotEqual(x[1], y[1]);
        var r = Run(g, 11, ("a", Tensor.Zeros(DataType.Float, [2, 3])), ("b", Tensor.Zeros(DataType.Float, [2, 4])));
        Assert.Equal([2, 4], ((Tensor)r[1]).Shape.ToArray());
    }

    [Fact]
    public void SplitToSequence_cuts_equal_pieces_and_a_shorter_last_one()
    {
        var g = new Graph("g", [V("x", I64(5)), V("n", I64())], [V("s", null)], [N("SplitToSequence", ["x", "n"], ["s"])]);
        var s = (TensorSequence)Run(g, 11, ("x", Vec(1, 2, 3, 4, 5)), ("n", Tensor.Scalar(2L)))[0];
        Assert.Equal(3, s.Count);
        Assert.Equal([5L], s[2].ToArray<long>());
        Assert.Equal([3L, 4], s[1].ToArray<long>());
    }

    [Fact]
    public void SplitToSequence_without_split_keeps_or_drops_the_axis()
    {
        var x = Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        foreach (var keep in new[] { 1, 0 })
        {
            var g = new Graph("g", [V("x", I64(2, 3))], [V("s", null)],
                [N("SplitToSequence", ["x"], ["s"], IR.Attribute.Int("axis", -1), IR.Attribute.Int("keepdims", keep))]);
            var s = (TensorSequence)Run(g, 11, ("x", x))[0];
            Assert.Equal(3, s.Count);
            Assert.Equal(keep == 1 ? [2, 1] : [2], s[1].Shape.ToArray());
            Assert.Equal([2L, 5], s[1].ToArray<long>());
        }
    }

    [Fact]
    public void ConcatFromSequence_joins_or_stacks()
    {
        var a = Tensor.FromArray(new long[] { 1, 2, 3, 4 }, 2, 2);
        var b = Tensor.FromArray(new long[] { 5, 6, 7, 8 }, 2, 2);
        var g = new Graph("g", [V("a", I64(2, 2)), V("b", I64(2, 2))], [V("joined", null), V("stacked", null)],
        [
            N("SequenceConstruct", ["a", "b"], ["s"]),
            N("ConcatFromSequence", ["s"], ["joined"], IR.Attribute.Int("axis", 1)),
            N("ConcatFromSequence", ["s"], ["stacked"], IR.Attribute.Int("axis", -1), IR.Attribute.Int("new_axis", 1)),
        ]);
        var r = Run(g, 11, ("a", a), ("b", b));
        Assert.Equal([2, 4], ((Tensor)r[0]).Shape.ToArray());
        Assert.Equal([1L, 2, 5, 6, 3, 4, 7, 8], Values(r[0]));
        Assert.Equal([2, 2, 2], ((Tensor)r[1]).Shape.ToArray());
        Assert.Equal([1L, 5, 2, 6, 3, 7, 4, 8], Values(r[1]));
    }

    [Fact]
    public void SequenceMap_runs_the_body_per_element_with_per_element_sizes()
    {
        // The body declares its input [N]; elements of lengths 1 and 3 bind N separately in each run of the body.
        var body = new Graph("body", [V("e", new TensorType(DataType.Int64, Shape.Parse("[N]"))), V("k", I64())], [V("out", null)],
            [Test("TestAdd", ["e", "k"], ["sum"]), N("Identity", ["sum"], ["out"])]);
        var g = new Graph("g", [V("a", I64(1)), V("b", I64(3)), V("k", I64())], [V("mapped", null)],
        [
            N("SequenceConstruct", ["a", "b"], ["s"]),
            N("SequenceMap", ["s", "k"], ["mapped"], IR.Attribute.Graph("body", body)),
        ]);
        var mapped = (TensorSequence)Run(g, 17, ("a", Vec(1)), ("b", Vec(1, 2, 3)), ("k", Tensor.Scalar(10L)))[0];
        Assert.Equal([11L], mapped[0].ToArray<long>());
        Assert.Equal([11L, 12, 13], mapped[1].ToArray<long>());
    }
}
