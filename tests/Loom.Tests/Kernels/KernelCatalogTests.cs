using System.Reflection;
using Loom.Kernels;
using Xunit;

namespace Loom.Tests.Kernels;

/// <summary>The listed kernel classes are exactly those an assembly scan finds (a new one cannot be forgotten).</summary>
public class KernelCatalogTests
{
    [Fact]
    public void CatalogListsEveryMarkedClassOnce()
    {
        var scanned = typeof(KernelRegistry).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<KernelRegistrationsAttribute>() is not null).ToList();
        var listed = KernelCatalog.All.Select(r => r.Method.DeclaringType!).ToList();
        Assert.True(scanned.Count > 50, $"only {scanned.Count} marked classes found");
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(scanned.Select(t => t.FullName).Order(), listed.Select(t => t.FullName).Order());
    }
}
