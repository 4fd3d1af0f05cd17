namespace Loom.Streams.Execution;

/// <summary>
/// A struct or complex value at run time: its scalar leaves in declaration order, each held as a double
/// (exact for int, bit and float leaves). Copied on assignment and push, so it behaves as a value.
/// </summary>
public sealed class SValue(int leaves)
{
    public readonly double[] L = new double[leaves];

    public SValue Clone()
    {
        var c = new SValue(L.Length);
        L.CopyTo(c.L, 0);
        return c;
    }

    /// <summary>A copy of leaves [offset, offset+count): a nested struct read as a value.</summary>
    public SValue Slice(int offset, int count)
    {
        var c = new SValue(count);
        Array.Copy(L, offset, c.L, 0, count);
        return c;
    }

    public void CopyInto(SValue from, int offset) => Array.Copy(from.L, 0, L, offset, from.L.Length);
}
