using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Loom.Streams.Execution;

/// <summary>Thrown to end a run early and quietly: the line limit was reached or the output was closed.</summary>
public sealed class StopRunException(string reason) : Exception(reason);

/// <summary>
/// Where <c>print</c>/<c>println</c> go. Formats as the MIT compiler's C does (<c>%d</c>, floats as <c>%f</c>,
/// booleans as true/false). With printing off it folds every value into <see cref="Checksum"/> instead, so
/// timing runs do the same work without the formatting. A closed output or the line limit ends the run by
/// throwing <see cref="StopRunException"/>.
/// </summary>
public sealed class Printer
{
    private TextWriter? _out;
    private readonly char[] _buf = new char[512];
    private readonly long _maxLines;

    public Printer(TextWriter? output, long maxLines = long.MaxValue)
    {
        _out = output;
        _maxLines = maxLines;
    }

    // Fields, not properties, and Fold public: compiled work functions live in another (dynamic) assembly,
    // and the JIT inlines into them only what they could call directly.
    public long Lines;
    public ulong Checksum;
    public bool Printing => _out is not null;

    /// <summary>
    /// A printer for a twin of the program on another core (unit alternation): it prints (or folds) as this one
    /// does, but whatever the twin prints while being compiled (its static block, its filters' init) is dropped;
    /// <see cref="Attach"/> then points it at this printer's output. Lines and checksum are handed over in unit order.
    /// </summary>
    internal Printer Twin() => new(_out is null ? null : TextWriter.Null, _maxLines);

    /// <summary>Points a twin made by <see cref="Twin"/> at <paramref name="main"/>'s output, once it is compiled.</summary>
    internal void Attach(Printer main) => _out = main._out;

    /// <summary>Takes over another printer's line count and checksum (the sequential state of the output).</summary>
    internal void TakeStateFrom(Printer other)
    {
        Lines = other.Lines;
        Checksum = other.Checksum;
    }

    /// <summary>
    /// Folds one printed value into the checksum: the value xor the number of lines printed before it, added. A
    /// check that keeps every output live and tells runs apart (a line's value or place changes it), not a hash:
    /// the sum is a one-cycle chain per output, as the MIT compiler's code with printing off (<c>sink += (int)x</c>).
    /// The multiply-xor hash before it was a five-cycle chain per output (a quarter of Figure1's time); with a
    /// rotate-and-add (two cycles) DCT ran at 0.83 of the rival, with this fold 0.95 (AutoCor 0.88 with either).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fold(ulong v) => Checksum = FoldInto(Checksum, v, Lines);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FoldInto(ulong sum, ulong v, long lines) => sum + (v ^ (ulong)lines);

    // The printing-off paths are inlined into compiled work functions (a timing run prints every output).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrintInt(int v)
    {
        if (_out is null) { Fold((ulong)v); return; }
        WriteInt(v);
    }

    private void WriteInt(int v)
    {
        v.TryFormat(_buf, out int n, default, CultureInfo.InvariantCulture);
        Write(n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrintFloat(float v) => PrintDouble(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrintDouble(double v)
    {
        if (_out is null) { Fold((ulong)BitConverter.DoubleToInt64Bits(v)); return; }
        WriteDouble(v);
    }

    private void WriteDouble(double v)
    {
        // %f: the exact binary value rounded to six decimals (.NET's "F6" is exact since .NET Core 3.0).
        if (!v.TryFormat(_buf, out int n, "F6", CultureInfo.InvariantCulture)) { WriteString(v.ToString("F6", CultureInfo.InvariantCulture)); return; }
        if (double.IsNaN(v)) WriteString("nan");
        else if (double.IsInfinity(v)) WriteString(v > 0 ? "inf" : "-inf");
        else Write(n);
    }

    public void PrintBool(bool v)
    {
        if (_out is null) { Fold(v ? 1UL : 2UL); return; }
        WriteString(v ? "true" : "false");
    }

    public void PrintString(string s)
    {
        if (_out is null) { Fold((ulong)s.Length); return; }
        WriteString(s);
    }

    public void PrintComplex(SValue c)
    {
        PrintDouble(c.L[0]);
        PrintString(" + ");
        PrintDouble(c.L[1]);
        PrintString("i");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EndPrint(bool newLine)
    {
        if (!newLine) return;
        if (_out is not null) WriteNewLine();
        if (++Lines >= _maxLines) LineLimit();
    }

    private void WriteNewLine() => Guard(() => _out!.Write('\n'));

    private static void LineLimit() => throw new StopRunException("line limit reached");

    /// <summary>The line limit (long.MaxValue when none): compiled code with printing off counts lines itself.</summary>
    public long MaxLines => _maxLines;

    /// <summary>
    /// Compiled code with printing off keeps the checksum and line count in locals for a batch of firings (a
    /// field updated per item made a store-to-load chain of every output); at the limit it stores them and stops.
    /// </summary>
    public static void StopAtLimit(Printer p, ulong checksum, long lines)
    {
        p.Checksum = checksum;
        p.Lines = lines;
        LineLimit();
    }

    public void Flush()
    {
        if (_out is not null) Guard(_out.Flush);
    }

    private void Write(int n)
    {
        var span = new ReadOnlySpan<char>(_buf, 0, n);
        try { _out!.Write(span); }
        catch (IOException) { throw new StopRunException("output closed"); }
    }

    private void WriteString(string s) => Guard(() => _out!.Write(s));

    private static void Guard(Action a)
    {
        try { a(); }
        catch (IOException) { throw new StopRunException("output closed"); }
        catch (ObjectDisposedException) { throw new StopRunException("output closed"); }
    }

    /// <summary>Formats one line the way <see cref="PrintDouble"/> would (for tests and tools).</summary>
    public static string FormatFloat(double v)
    {
        var sw = new StringWriter(new StringBuilder());
        new Printer(sw).PrintDouble(v);
        return sw.ToString();
    }
}
