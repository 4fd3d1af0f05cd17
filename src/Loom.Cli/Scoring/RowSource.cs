namespace Loom.Cli.Scoring;

/// <summary>A row the input could not turn into features: its 1-based row number in the data, why, and its text.</summary>
internal sealed record RejectedRow(long Row, string Reason, string Text);

/// <summary>One batch of feature rows in the model's feature order (row-major), and the rows rejected while reading it.</summary>
internal sealed class RowBatch(int capacity, int features)
{
    public float[] Values { get; } = new float[capacity * features];
    public int Rows { get; set; }
    public List<RejectedRow> Rejected { get; } = [];
}

/// <summary>Streams a data file as batches of features.</summary>
internal interface IRowSource : IDisposable
{
    /// <summary>The data's column names, in file order.</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary>Rows in the file when known up front (Parquet), else null.</summary>
    long? TotalRows { get; }

    /// <summary>Fraction of the input consumed, for the progress bar.</summary>
    double Progress { get; }

    /// <summary>Rows read so far (read ahead of scoring).</summary>
    long RowsRead { get; }

    /// <summary>Chooses which data column feeds each model feature; called once before reading.</summary>
    void Map(int[] columnOfFeature);

    /// <summary>Fills <paramref name="batch"/> with the next rows; false at the end of the data.</summary>
    bool Read(RowBatch batch);
}

/// <summary>Decides which data column feeds each model feature.</summary>
internal static class FeatureMap
{
    /// <summary>
    /// Explicit <c>--map FEATURE=COLUMN</c> pairs first, then columns named like the feature; when no
    /// feature name matches and the data has exactly as many columns as features, columns by position.
    /// </summary>
    public static int[] Resolve(string[] features, IReadOnlyList<string> columns, IReadOnlyDictionary<string, string> map, string dataName)
    {
        foreach (var key in map.Keys)
            if (!features.Contains(key)) throw new InputException($"--map names feature '{key}', which the model does not have (features: {string.Join(", ", features.Take(20))})");
        var index = new Dictionary<string, int>();
        for (int c = 0; c < columns.Count; c++) index.TryAdd(columns[c], c);
        bool anyByName = features.Any(f => map.ContainsKey(f) || index.ContainsKey(f));
        if (!anyByName && columns.Count == features.Length) return Enumerable.Range(0, features.Length).ToArray();
        var result = new int[features.Length];
        for (int i = 0; i < features.Length; i++)
        {
            string column = map.TryGetValue(features[i], out var m) ? m : features[i];
            if (!index.TryGetValue(column, out result[i]))
                throw new InputException($"{dataName}: no column '{column}' for model feature '{features[i]}' (columns: {string.Join(", ", columns.Take(20))}); use --map {features[i]}=COLUMN");
        }
        return result;
    }
}
