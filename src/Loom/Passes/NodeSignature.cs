using Loom.IR;
using Attribute = Loom.IR.Attribute;

namespace Loom.Passes;

/// <summary>
/// What makes two nodes compute the same values: operator, domain, input names, number of outputs and
/// attributes (compared exactly: floats and tensors bitwise, types structurally). Nodes with subgraph
/// attributes get no signature, so they are never merged.
/// </summary>
internal sealed class NodeSignature : IEquatable<NodeSignature>
{
    private readonly Node _node;
    private readonly Attribute[] _attributes;
    private readonly int _hash;

    private NodeSignature(Node node)
    {
        _node = node;
        _attributes = node.Attributes.OrderBy(a => a.Name, StringComparer.Ordinal).ToArray();
        var h = new HashCode();
        h.Add(node.OpType);
        h.Add(node.Domain);
        h.Add(node.Outputs.Length);
        foreach (var i in node.Inputs) h.Add(i);
        foreach (var a in _attributes) { h.Add(a.Name); h.Add(a.Kind); if (a.Kind == AttributeKind.Tensor) h.Add(TensorEquality.Hash(a.AsTensor())); }
        _hash = h.ToHashCode();
    }

    public static NodeSignature? Of(Node node) => node.Subgraphs.Any() ? null : new NodeSignature(node);

    public bool Equals(NodeSignature? other) =>
        other is not null && other._hash == _hash
        && other._node.OpType == _node.OpType && other._node.Domain == _node.Domain
        && other._node.Outputs.Length == _node.Outputs.Length
        && other._node.Inputs.SequenceEqual(_node.Inputs)
        && other._attributes.Length == _attributes.Length
        && _attributes.Zip(other._attributes).All(p => SameAttribute(p.First, p.Second));

    public override bool Equals(object? obj) => obj is NodeSignature s && Equals(s);
    public override int GetHashCode() => _hash;

    private static bool SameAttribute(Attribute a, Attribute b)
    {
        if (a.Name != b.Name || a.Kind != b.Kind) return false;
        return a.Kind switch
        {
            AttributeKind.Float => BitConverter.SingleToInt32Bits(a.AsFloat()) == BitConverter.SingleToInt32Bits(b.AsFloat()),
            AttributeKind.Int => a.AsInt() == b.AsInt(),
            AttributeKind.String => a.AsString() == b.AsString(),
            AttributeKind.Floats => a.AsFloats().Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.AsFloats().Select(BitConverter.SingleToInt32Bits)),
            AttributeKind.Ints => a.AsInts().SequenceEqual(b.AsInts()),
            AttributeKind.Strings => a.AsStrings().SequenceEqual(b.AsStrings()),
            AttributeKind.Tensor => TensorEquality.Equal(a.AsTensor(), b.AsTensor()),
            AttributeKind.Tensors => a.AsTensors().Length == b.AsTensors().Length && a.AsTensors().Zip(b.AsTensors()).All(p => TensorEquality.Equal(p.First, p.Second)),
            AttributeKind.Type => a.AsType().Equals(b.AsType()),
            AttributeKind.Types => a.AsTypes().SequenceEqual(b.AsTypes()),
            _ => false,
        };
    }
}
