using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Filters that only move items, compiled away in fused code like splitters (their output a table of where each
/// item is): which filters qualify and the moves found, and a program's output — a reversing filter whose output
/// keeps items for a peeking consumer (copied by table), then a filter that peeks beyond its pop (read by table) —
/// against hand-worked values, fused and on the rings.
/// </summary>
public class DataMovementTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add Rev(5); add Pairs(); add Plus(); add Bad(); add Print(); }
        void->int stateful filter Src { int i = 0; work push 1 { push(3 * i + 1); i++; } }
        int->int filter Rev(int n) {
          work pop n push n {
            for (int i = n - 1; i >= 0; i--) push(peek(i));
            for (int i = 0; i < n; i++) pop();
          }
        }
        int->int filter Pairs { work pop 2 peek 3 push 3 { push(peek(2)); push(peek(0)); push(pop()); pop(); } }
        int->int filter Plus { work pop 1 push 1 { push(pop() + 1); } }
        int->int filter Bad { work pop 2 peek 3 push 1 { push(peek(peek(0) & 1)); pop(); pop(); } }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    private static StreamProgram Compile(Printer printer) => StreamProgram.Compile([new SourceFile("m.str", Program)], printer);

    [Fact]
    public void OnlyFiltersThatMoveItemsGetMoves()
    {
        var p = Compile(new Printer(null));
        int[]? Moves(string name) => p.Flat.Actors.Single(a => a.Filter?.Symbol.Name == name).Filter!.Moves;
        Assert.Equal([4, 3, 2, 1, 0], Moves("Rev") ?? []);
        Assert.Equal([2, 0, 0], Moves("Pairs") ?? []);
        Assert.Null(Moves("Plus"));   // computes
        Assert.Null(Moves("Bad"));    // the place it reads depends on an item
        Assert.Null(Moves("Src"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MovesComputeWhatTheSourceSays(bool fuse)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = Compile(new Printer(sw, 3000));
        p.Fuse = fuse;
        p.RunSequential(long.MaxValue);
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3000, lines.Length);
        static long X(long n) => 3 * n + 1;
        static long R(long m) => X(5 * (m / 5) + 4 - m % 5);                        // Rev's output
        static long Q(long m) => (m % 3) switch { 0 => R(m / 3 * 2 + 2), _ => R(m / 3 * 2) }; // Pairs'
        static long B(long j) { long a = Q(2 * j) + 1; return Q(2 * j + (a & 1)) + 1; }        // Bad's, after Plus
        Assert.Equal(Enumerable.Range(0, 3000).Select(j => B(j).ToString(CultureInfo.InvariantCulture)), lines);
    }
}
