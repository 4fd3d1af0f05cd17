using System.Text.Json;

namespace Loom.Bench;

/// <summary>One printed row of the models bench, for <c>--json</c>.</summary>
internal sealed record BenchRow(string Model, int Threads, string Configuration, int Batch, double MedianMs, double Gflops, double PercentOfPeak)
{
    /// <summary>Writes the rows to a temporary file beside <paramref name="path"/> and renames it, so the file appears whole or not at all.</summary>
    public static void WriteJson(string path, double peakGflopsPerCore, List<BenchRow> rows)
    {
        var doc = new
        {
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            cores = Environment.ProcessorCount,
            peakGflopsPerCore,
            rows,
        };
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        File.Move(tmp, path, overwrite: true);
    }
}
