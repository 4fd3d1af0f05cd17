using System.Text.Json;
using Loom.Cluster.Jobs;

namespace Loom.Cluster.Scoring;

/// <summary>
/// <c>OUT.manifest.json</c>, written after the output: which shard of the input became which rows of the
/// output, and which silo scored it. (Job metadata, not tensors — those travel in <see cref="Codec.TensorCodec"/>.)
/// </summary>
internal static class Manifest
{
    public static string PathOf(JobState job) => job.Output + ".manifest.json";

    public static void Write(JobState job, double seconds)
    {
        long first = 0;
        var shards = new List<object>();
        foreach (var s in job.Shards)
        {
            var d = job.Done[s.Index];
            shards.Add(new { index = s.Index, start = s.Start, end = s.End, first_row = first, rows = d.Rows, silo = d.Silo, seconds = Math.Round(d.Seconds, 3) });
            first += d.Rows;
        }
        var doc = new { job = job.Id, model = job.Model, model_sha256 = job.ModelSha256, input = job.Input, output = job.Output, rows = first, seconds = Math.Round(seconds, 3), shards };
        string path = PathOf(job), temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }
}
