namespace Loom.Dynamic.Data;

/// <summary>
/// Word ids in order of first appearance (trees in file order, each tree's leaves left to right), as the
/// DyNet rival builds them: the vocabulary is the distinct words of the trees that are used.
/// </summary>
public sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _words = [];

    public int Count => _words.Count;
    public string this[int id] => _words[id];

    public int GetOrAdd(string word)
    {
        if (!_ids.TryGetValue(word, out int id))
        {
            id = _words.Count;
            _ids.Add(word, id);
            _words.Add(word);
        }
        return id;
    }

    /// <summary>Builds the vocabulary of <paramref name="trees"/> and sets their <see cref="SstTree.WordIds"/>.</summary>
    public static Vocabulary Build(IReadOnlyList<SstTree> trees)
    {
        var v = new Vocabulary();
        foreach (var t in trees)
            for (int n = 0; n < t.Count; n++)
                t.WordIds[n] = t.Words[n] is { } w ? v.GetOrAdd(w) : -1;
        return v;
    }
}
