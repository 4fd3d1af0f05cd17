namespace Loom.Dynamic.Data;

/// <summary>
/// One binary parse tree, flattened in post-order (children before parents, the root last), so a walk
/// over the arrays is already a valid evaluation order. Leaves are the pre-terminals: a label and a word.
/// </summary>
public sealed class SstTree
{
    public SstTree(int[] left, int[] right, string?[] words, byte[] labels, int line)
    {
        Left = left;
        Right = right;
        Words = words;
        Labels = labels;
        Line = line;
        WordIds = new int[left.Length];
    }

    /// <summary>Index of the left child, or -1 at a leaf.</summary>
    public int[] Left { get; }
    public int[] Right { get; }
    /// <summary>The word at a leaf, null at an internal node.</summary>
    public string?[] Words { get; }
    /// <summary>Vocabulary ids of the leaves' words (set by <see cref="Vocabulary"/>), -1 at internal nodes.</summary>
    public int[] WordIds { get; }
    public byte[] Labels { get; }
    /// <summary>The 1-based line of the file the tree came from.</summary>
    public int Line { get; }

    public int Count => Left.Length;
    public int Root => Left.Length - 1;
    public bool IsLeaf(int node) => Left[node] < 0;
    public int LeafCount => (Count + 1) / 2;

    /// <summary>Height of every node: 1 at a leaf, 1 + the taller child above.</summary>
    public int[] Heights()
    {
        var h = new int[Count];
        for (int n = 0; n < Count; n++) h[n] = IsLeaf(n) ? 1 : 1 + Math.Max(h[Left[n]], h[Right[n]]);
        return h;
    }

    /// <summary>A complete binary tree of the given height (ACRoBat's synthetic setting), words drawn by <paramref name="word"/>.</summary>
    public static SstTree Complete(int height, Func<int, int> word, Func<int, byte> label)
    {
        var left = new List<int>(); var right = new List<int>();
        int Build(int h)
        {
            if (h == 1) { left.Add(-1); right.Add(-1); return left.Count - 1; }
            int l = Build(h - 1), r = Build(h - 1);
            left.Add(l); right.Add(r);
            return left.Count - 1;
        }
        Build(height);
        int n = left.Count;
        var words = new string?[n];
        var labels = new byte[n];
        var tree = new SstTree(left.ToArray(), right.ToArray(), words, labels, 0);
        for (int i = 0; i < n; i++)
        {
            labels[i] = label(i);
            tree.WordIds[i] = tree.IsLeaf(i) ? word(i) : -1;
        }
        return tree;
    }
}
