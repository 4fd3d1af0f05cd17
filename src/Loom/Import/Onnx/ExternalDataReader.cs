using Loom.Import.Onnx.Proto;

namespace Loom.Import.Onnx;

/// <summary>
/// Reads tensor bytes stored outside the model file (<c>data_location = EXTERNAL</c>). The location is
/// resolved relative to the model's folder and must stay inside it (no absolute paths, no <c>..</c>
/// escapes, no symbolic link leading out); offset and length must lie within the file and match the
/// tensor's declared size.
/// </summary>
internal static class ExternalDataReader
{
    public static byte[] Read(TensorProto p, ImportContext ctx, string label, long bytesNeeded)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var e in p.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset":
                    if (!long.TryParse(e.Value, out offset) || offset < 0) throw new ExternalDataException($"{ctx.Where}: {label} has invalid external-data offset '{e.Value}'");
                    break;
                case "length":
                    if (!long.TryParse(e.Value, out length) || length < 0) throw new ExternalDataException($"{ctx.Where}: {label} has invalid external-data length '{e.Value}'");
                    break;
            }
        }
        if (string.IsNullOrEmpty(location)) throw new ExternalDataException($"{ctx.Where}: {label} is external but names no location");
        if (ctx.BaseDirectory is null)
            throw new ExternalDataException($"{ctx.Where}: {label} has its data in '{location}', but the model was loaded from bytes with no folder (set LoomSessionOptions.ExternalDataDirectory)");

        var path = ResolveInside(ctx.BaseDirectory, location, ctx, label);
        if (!File.Exists(path)) throw new ExternalDataException($"{ctx.Where}: {label} has its data in '{location}', which does not exist");
        long fileLength = new FileInfo(path).Length;
        if (length < 0) length = fileLength - offset;
        if (offset > fileLength || length > fileLength - offset)
            throw new ExternalDataException($"{ctx.Where}: {label} reads bytes {offset}..{offset + length} of '{location}', which has only {fileLength}");
        if (length != bytesNeeded)
            throw new ExternalDataException($"{ctx.Where}: {label} needs {bytesNeeded} bytes but its external data '{location}' gives {length}");
        var data = new byte[length];
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        fs.Seek(offset, SeekOrigin.Begin);
        fs.ReadExactly(data);
        return data;
    }

    /// <summary>Resolves <paramref name="location"/> under <paramref name="baseDir"/>, refusing anything that leaves it.</summary>
    public static string ResolveInside(string baseDir, string location, ImportContext ctx, string label)
    {
        var root = Path.GetFullPath(baseDir);
        if (!root.EndsWith(Path.DirectorySeparatorChar)) root += Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(location) || location.Contains('\0'))
            throw new ExternalDataException($"{ctx.Where}: {label} names external data '{location}', an absolute path; it must be relative to the model's folder");
        var full = Path.GetFullPath(Path.Combine(root, location));
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new ExternalDataException($"{ctx.Where}: {label} names external data '{location}', which lies outside the model's folder");
        // A symbolic link (the file or any folder on the way) must not lead out either.
        var real = RealPath(full);
        var realRoot = RealPath(root.TrimEnd(Path.DirectorySeparatorChar)) + Path.DirectorySeparatorChar;
        if (!real.StartsWith(realRoot, StringComparison.Ordinal))
            throw new ExternalDataException($"{ctx.Where}: {label} names external data '{location}', which links outside the model's folder");
        return full;
    }

    private static string RealPath(string path)
    {
        var parts = new List<string>();
        var current = path;
        // Resolve links from the outermost existing component inwards.
        while (!string.IsNullOrEmpty(current) && !File.Exists(current) && !Directory.Exists(current))
        {
            parts.Insert(0, Path.GetFileName(current));
            current = Path.GetDirectoryName(current);
        }
        if (string.IsNullOrEmpty(current)) return path;
        string resolved = Path.GetPathRoot(current)!;
        foreach (var segment in current[resolved.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            resolved = Path.Combine(resolved, segment);
            for (int hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(resolved) ? new DirectoryInfo(resolved) : new FileInfo(resolved);
                if (info.LinkTarget is null) break;
                resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(resolved)!, info.LinkTarget));
            }
        }
        foreach (var p in parts) resolved = Path.Combine(resolved, p);
        return resolved;
    }
}
