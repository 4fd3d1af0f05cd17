using System.Security.Cryptography;

namespace Loom.Cluster.Grains;

/// <summary>
/// Where a silo finds a model: the client's path when this silo sees the same file there (shared storage),
/// else its own cache (<c>$TMPDIR/loom-models/SHA256.ext</c>) of models clients uploaded. A file is used only
/// when its SHA-256 is the client's, so a silo never scores with a different model of the same name.
/// </summary>
internal static class ModelCache
{
    /// <summary>The cache folder (tests point it at a folder of their own).</summary>
    internal static string Dir { get; set; } = Path.Combine(Path.GetTempPath(), "loom-models");

    public static string? Find(ModelRef model)
    {
        if (File.Exists(model.Path) && Hash(model.Path).Equals(model.Sha256, StringComparison.OrdinalIgnoreCase)) return model.Path;
        string cached = CachedPath(model);
        return File.Exists(cached) ? cached : null; // cached files were checked when they arrived
    }

    /// <summary>Appends one chunk to the upload's temporary file; the last chunk checks the hash and moves it into the cache.</summary>
    /// <remarks><paramref name="uploader"/> keeps uploads by different silos on one machine (one cache folder) apart.</remarks>
    public static void Receive(ModelRef model, long offset, byte[] chunk, bool last, string uploader)
    {
        Directory.CreateDirectory(Dir);
        string temp = CachedPath(model) + "." + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(uploader)))[..12] + ".upload";
        using (var f = new FileStream(temp, offset == 0 ? FileMode.Create : FileMode.Open, FileAccess.Write, FileShare.None))
        {
            if (f.Length != offset) throw new SiloModelException($"model {model.Path}: chunk at byte {offset} arrived after {f.Length} bytes");
            f.Position = offset;
            f.Write(chunk);
        }
        if (!last) return;
        if (!Hash(temp).Equals(model.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(temp);
            throw new SiloModelException($"model {model.Path}: the uploaded bytes do not have the client's SHA-256");
        }
        File.Move(temp, CachedPath(model), overwrite: true);
    }

    /// <summary>Sends the model file to a silo's model grain in chunks of at most <paramref name="chunkBytes"/>; returns the bytes sent.</summary>
    public static async Task<long> SendAsync(IModelGrain grain, ModelRef model, string localPath, int chunkBytes)
    {
        await using var f = File.OpenRead(localPath);
        long offset = 0;
        var buffer = new byte[Math.Max(1, Math.Min(chunkBytes, (int)Math.Max(1, f.Length)))];
        do
        {
            int n = await f.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false);
            var reply = await grain.Upload(model, offset, buffer.AsSpan(0, n).ToArray(), offset + n >= f.Length);
            if (reply.Error is { } error) throw new SiloModelException($"silo {reply.Silo}: {error}");
            offset += n;
        } while (offset < f.Length);
        return offset;
    }

    private static string CachedPath(ModelRef model) => Path.Combine(Dir, model.Sha256.ToLowerInvariant() + Path.GetExtension(model.Path));

    private static string Hash(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }
}
