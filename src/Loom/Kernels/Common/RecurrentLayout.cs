namespace Loom.Kernels.Common;

/// <summary>
/// Where a recurrent layer's rows live for either layout: layout 0 is X (seq, batch, input),
/// Y (seq, dirs, batch, hidden), states (dirs, batch, hidden); layout 1 puts batch first in all three.
/// </summary>
internal sealed record RecurrentLayout(bool BatchFirst, int Seq, int Batch, int Directions, int Hidden)
{
    /// <summary>Row index of step <paramref name="t"/> of batch row <paramref name="b"/> in X.</summary>
    public int XRow(int t, int b) => BatchFirst ? b * Seq + t : t * Batch + b;

    /// <summary>Element offset of (t, direction, b) in Y.</summary>
    public int Y(int t, int d, int b) => (BatchFirst ? (b * Seq + t) * Directions + d : (t * Directions + d) * Batch + b) * Hidden;

    /// <summary>Element offset of (direction, b) in initial_h / Y_h (and the cell-state equivalents).</summary>
    public int State(int d, int b) => (BatchFirst ? b * Directions + d : d * Batch + b) * Hidden;

    public int[] YShape => BatchFirst ? [Batch, Seq, Directions, Hidden] : [Seq, Directions, Batch, Hidden];
    public int[] StateShape => BatchFirst ? [Batch, Directions, Hidden] : [Directions, Batch, Hidden];
}
