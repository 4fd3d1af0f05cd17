using System.Numerics;

namespace Loom.Streams.Scheduling;

/// <summary>
/// Solves the balance equations push(u)·r(u) = pop(v)·r(v) over every edge u→v for the smallest positive
/// integer repetition vector, with exact rational arithmetic (BigInteger fractions). Each connected part
/// of the graph is normalised on its own. A contradiction is a rate mismatch naming both ends.
/// </summary>
public static class Repetitions
{
    private readonly record struct Fraction(BigInteger Num, BigInteger Den)
    {
        public static Fraction Of(BigInteger n, BigInteger d)
        {
            if (d.Sign < 0) { n = -n; d = -d; }
            var g = BigInteger.GreatestCommonDivisor(n, d);
            return g.IsZero ? new(0, 1) : new(n / g, d / g);
        }
        public Fraction Times(BigInteger n, BigInteger d) => Of(Num * n, Den * d);
    }

    public static long[] Solve(FlatGraph g)
    {
        int n = g.Actors.Count;
        var r = new Fraction?[n];
        var result = new long[n];
        for (int start = 0; start < n; start++)
        {
            if (r[start] is not null) continue;
            var component = new List<int>();
            r[start] = new Fraction(1, 1);
            var queue = new Queue<int>([start]);
            while (queue.Count > 0)
            {
                int a = queue.Dequeue();
                component.Add(a);
                var actor = g.Actors[a];
                foreach (var e in actor.Out.Concat(actor.In))
                {
                    if (e is null || e.Dynamic) continue; // a dynamic edge separates statically scheduled regions
                    long push = e.Src.Push[e.SrcPort], pop = e.Dst.Pop[e.DstPort];
                    bool outgoing = e.Src == actor;
                    var other = outgoing ? e.Dst : e.Src;
                    if (push == 0 || pop == 0)
                    {
                        if (push != pop)
                            throw new StreamException($"rate mismatch: {Describe(e)} — one side moves no items, so the two can never balance");
                        continue;
                    }
                    // r(dst) = r(src) * push / pop
                    var implied = outgoing ? r[a]!.Value.Times(push, pop) : r[a]!.Value.Times(pop, push);
                    if (r[other.Index] is not { } known)
                    {
                        r[other.Index] = implied;
                        queue.Enqueue(other.Index);
                    }
                    else if (known != implied)
                        throw new StreamException($"rate mismatch: {Describe(e)} — the rates around this connection cannot balance (an unschedulable split-join or feedback loop: its branches produce and consume in different proportions)");
                }
            }
            BigInteger lcm = 1;
            foreach (var a in component) lcm = lcm / BigInteger.GreatestCommonDivisor(lcm, r[a]!.Value.Den) * r[a]!.Value.Den;
            BigInteger gcd = 0;
            foreach (var a in component) gcd = BigInteger.GreatestCommonDivisor(gcd, r[a]!.Value.Num * (lcm / r[a]!.Value.Den));
            foreach (var a in component)
            {
                var v = r[a]!.Value.Num * (lcm / r[a]!.Value.Den) / gcd;
                if (v > int.MaxValue) throw new StreamException($"the repetition count of {g.Actors[a].Name} ({v}) is too large to schedule");
                result[a] = (long)v;
            }
        }
        return result;
    }

    private static string Describe(Edge e) =>
        $"{e.Src.Name} (in {e.Src.Owner}) pushes {e.Src.Push[e.SrcPort]} per firing into {e.Dst.Name} (in {e.Dst.Owner}), which pops {e.Dst.Pop[e.DstPort]}";
}
