using Loom.Dynamic.Data;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// Compile-time batching of one forward's trees, without building a graph: heights are tracked inline in one
/// post-order pass, internal nodes are numbered level by level (a row per node), and every child's output
/// slot is its parent's input row, <c>[h_l; h_r]</c> and <c>[c_l; c_r]</c>. So the operand of each level's GEMM
/// is already contiguous and nothing is gathered or concatenated. Leaves are deduplicated by word (identical
/// computations in one forward), their rows read straight from the embedding table.
/// </summary>
internal sealed class TreePlan
{
    /// <summary>Internal levels (height 2, 3, …): rows [LevelStart[l], LevelStart[l+1]).</summary>
    public int[] LevelStart = new int[64];
    public int Levels;
    /// <summary>Per internal row: where its (h, c) goes (<see cref="Slot"/> encoding) and its label.</summary>
    public int[] RowDest = [];
    public byte[] RowLabel = [];
    public int Rows;
    /// <summary>Per leaf: its unique word row, destination slot and label.</summary>
    public int[] LeafUnique = [], LeafDest = [];
    public byte[] LeafLabel = [];
    public int Leaves;
    /// <summary>Distinct leaf words in first-use order (embedding rows).</summary>
    public int[] UniqueWord = [];
    public int Unique;
    public int Trees;

    private int[] _height = [], _row = [], _levelFill = [], _stamp = [], _stampIndex = [];
    private int _stampNow;

    /// <summary>Slot s ≥ 0: internal row s/2, side s%2 (0 left, 1 right); s &lt; 0: the root output of tree −s−1.</summary>
    public static int RootSlot(int tree) => -tree - 1;

    public void Build(IReadOnlyList<SstTree> trees, int vocabulary, bool dedupLeaves)
    {
        int total = 0, leaves = 0;
        foreach (var t in trees) { total += t.Count; leaves += t.LeafCount; }
        Grow(ref _height, total); Grow(ref _row, total);
        Grow(ref LeafUnique, leaves); Grow(ref LeafDest, leaves); Grow(ref LeafLabel, leaves); Grow(ref UniqueWord, leaves);
        Grow(ref RowDest, total - leaves); Grow(ref RowLabel, total - leaves);
        Trees = trees.Count;

        // Pass 1: heights and level sizes.
        Array.Clear(LevelStart);
        int maxLevel = 0, g = 0;
        foreach (var t in trees)
        {
            int b = g;
            for (int n = 0; n < t.Count; n++, g++)
            {
                int h = t.IsLeaf(n) ? 1 : 1 + Math.Max(_height[b + t.Left[n]], _height[b + t.Right[n]]);
                _height[g] = h;
                if (h > 1)
                {
                    if (h - 1 >= LevelStart.Length - 1) Array.Resize(ref LevelStart, 2 * h);
                    LevelStart[h - 1]++;
                    maxLevel = Math.Max(maxLevel, h - 1);
                }
            }
        }
        Levels = maxLevel;
        // Prefix sums: level l (height l+1) starts at LevelStart[l-1] after the shift below.
        int sum = 0;
        for (int l = 1; l <= maxLevel; l++) { int c = LevelStart[l]; LevelStart[l - 1] = sum; sum += c; }
        LevelStart[maxLevel] = sum;
        Rows = sum;
        Grow(ref _levelFill, maxLevel + 1);
        Array.Copy(LevelStart, _levelFill, maxLevel + 1);

        // Pass 2: rows of internal nodes, level by level.
        g = 0;
        foreach (var t in trees)
            for (int n = 0; n < t.Count; n++, g++)
                if (_height[g] > 1) _row[g] = _levelFill[_height[g] - 2]++;

        // Pass 3: destinations (parent rows) and leaves.
        Grow(ref _stamp, vocabulary); Grow(ref _stampIndex, vocabulary);
        if (++_stampNow == int.MaxValue) { Array.Clear(_stamp); _stampNow = 1; }
        Leaves = 0; Unique = 0; g = 0;
        for (int tb = 0; tb < trees.Count; tb++)
        {
            var t = trees[tb];
            int b = g;
            for (int n = 0; n < t.Count; n++, g++)
            {
                if (t.IsLeaf(n)) continue;
                int row = _row[g];
                RowLabel[row] = t.Labels[n];
                Place(t, b, t.Left[n], 2 * row, dedupLeaves);
                Place(t, b, t.Right[n], 2 * row + 1, dedupLeaves);
            }
            int root = b + t.Root;
            if (_height[root] > 1) { RowDest[_row[root]] = RootSlot(tb); }
            else Place(t, b, t.Root, RootSlot(tb), dedupLeaves);
        }
    }

    private void Place(SstTree t, int b, int child, int slot, bool dedup)
    {
        int g = b + child;
        if (_height[g] > 1) { RowDest[_row[g]] = slot; return; }
        int word = t.WordIds[child];
        int u;
        if (!dedup) { u = Unique++; UniqueWord[u] = word; }
        else if (_stamp[word] == _stampNow) u = _stampIndex[word];
        else
        {
            u = Unique++;
            UniqueWord[u] = word;
            _stamp[word] = _stampNow;
            _stampIndex[word] = u;
        }
        LeafUnique[Leaves] = u; LeafDest[Leaves] = slot; LeafLabel[Leaves] = t.Labels[child];
        Leaves++;
    }

    private static void Grow<T>(ref T[] a, int n)
    {
        if (a.Length < n) a = new T[Math.Max(n, a.Length * 2)];
    }
}
