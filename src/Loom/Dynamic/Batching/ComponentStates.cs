namespace Loom.Dynamic.Batching;

/// <summary>
/// The executed-node sets one independent input (a connected component) reaches under greedy steps, interned: per
/// state its ready types, the types a step of which is forced here (see <see cref="ExactSchedule"/>), the type-wise
/// bound of its remaining nodes per type, and its successor per type (computed once).
/// </summary>
internal sealed class ComponentStates
{
    private readonly BatchProblem _p;
    private readonly int _words;
    private readonly Dictionary<ulong[], int> _ids = new(new BitsComparer());
    private readonly List<ulong[]> _bits = [];
    private readonly List<int[]> _next = [];
    public readonly List<ulong> Ready = [];
    public readonly List<ulong> Forced = [];
    public readonly List<int[]> Remaining = [];
    public readonly List<int> Left = [];

    public ComponentStates(BatchProblem p, int typeCount)
    {
        _p = p;
        TypeCount = typeCount;
        _words = (p.NodeCount + 63) / 64;
        Initial = Intern(new ulong[_words]);
    }

    public int TypeCount { get; }
    public int Initial { get; }
    public int Count => _bits.Count;

    /// <summary>The state after one step of type <paramref name="t"/> (itself when no node of t is ready).</summary>
    public int Next(int s, int t)
    {
        int cached = _next[s][t];
        if (cached >= 0) return cached;
        if ((Ready[s] >> t & 1) == 0) return _next[s][t] = s;
        var bits = (ulong[])_bits[s].Clone();
        var old = _bits[s];
        for (int n = 0; n < _p.NodeCount; n++)
            if (_p.Types[n] == t && !Has(old, n) && _p.Inputs[n].All(x => Has(old, x))) bits[n >> 6] |= 1UL << n;
        int id = Intern(bits);
        _next[s][t] = id;
        return id;
    }

    private static bool Has(ulong[] b, int n) => (b[n >> 6] >> n & 1) != 0;

    private int Intern(ulong[] bits)
    {
        if (_ids.TryGetValue(bits, out int id)) return id;
        id = _bits.Count;
        _ids.Add(bits, id);
        _bits.Add(bits);
        var next = new int[TypeCount];
        Array.Fill(next, -1);
        _next.Add(next);
        // Ready types; for the forced-step rule, per node the types of its unexecuted ancestors (executed nodes have none).
        int n0 = _p.NodeCount, left = 0;
        ulong ready = 0, notForced = 0;
        var above = new ulong[n0];
        var f = new int[n0 * TypeCount];
        var remaining = new int[TypeCount];
        for (int n = 0; n < n0; n++)
        {
            if (Has(bits, n)) continue;
            left++;
            int t = _p.Types[n];
            bool isReady = true;
            ulong a = 0;
            for (int k = 0; k < TypeCount; k++) f[n * TypeCount + k] = 0;
            foreach (int x in _p.Inputs[n])
            {
                if (Has(bits, x)) continue;
                isReady = false;
                a |= above[x] | 1UL << _p.Types[x];
                for (int k = 0; k < TypeCount; k++) f[n * TypeCount + k] = Math.Max(f[n * TypeCount + k], f[x * TypeCount + k]);
            }
            above[n] = a;
            f[n * TypeCount + t]++;
            for (int k = 0; k < TypeCount; k++) remaining[k] = Math.Max(remaining[k], f[n * TypeCount + k]);
            if (isReady) ready |= 1UL << t;
            else if ((a >> t & 1) == 0) notForced |= 1UL << t;
        }
        Ready.Add(ready);
        Forced.Add(~notForced);
        Remaining.Add(remaining);
        Left.Add(left);
        return id;
    }

    private sealed class BitsComparer : IEqualityComparer<ulong[]>
    {
        public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(ulong[] b)
        {
            ulong h = 14695981039346656037UL;
            foreach (ulong w in b) h = (h ^ w) * 1099511628211UL + (h >> 29);
            return (int)(h ^ h >> 32);
        }
    }
}
