using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;

namespace Shinso.Training;

/// <summary>
/// The JSON form of <see cref="ImageAugmentation"/>, the <c>augment</c> object under <c>training</c> in a config. It
/// lives with the config rather than the augmenter because the data room sits below the file formats.
/// </summary>
public static class ImageAugmentationJson
{
    /// <summary>The settings as JSON; settings left off are omitted.</summary>
    public static JsonObject ToJson(ImageAugmentation augmentation)
    {
        var json = new JsonObject();
        if (augmentation.MaxShift > 0) json["shift"] = augmentation.MaxShift;
        if (augmentation.CropPadding > 0) json["crop"] = augmentation.CropPadding;
        if (augmentation.FlipHorizontal) json["flip"] = true;
        if (augmentation.ElasticAlpha > 0)
            json["elastic"] = new JsonObject { ["alpha"] = augmentation.ElasticAlpha, ["sigma"] = augmentation.ElasticSigma };
        if (augmentation.ImageShape is { } shape)
        {
            var dims = new JsonArray();
            foreach (int d in shape) dims.Add(d);
            json["image"] = dims;
        }
        return json;
    }

    /// <summary>Reads an <c>augment</c> object; a bad value is an error naming the file and the key.</summary>
    /// <exception cref="FormatException">A key is unknown or a value is out of range.</exception>
    public static ImageAugmentation FromJson(StrictJson json)
    {
        float alpha = 0f, sigma = 4f;
        if (json.Object("elastic") is { } e)
        {
            alpha = e.Float("alpha");
            sigma = e.Float("sigma", 4f);
            e.RejectUnknownKeys("alpha, sigma");
        }
        var augmentation = new ImageAugmentation
        {
            MaxShift = json.Int("shift", 0), CropPadding = json.Int("crop", 0), FlipHorizontal = json.Bool("flip", false),
            ElasticAlpha = alpha, ElasticSigma = sigma, ImageShape = json.Has("image") ? json.IntArray("image") : null,
        };
        json.RejectUnknownKeys("shift, crop, flip, elastic, image");
        try { augmentation.Validate(); }
        catch (ArgumentException x) { throw new FormatException($"{json.Source}: '{(json.Path.Length > 0 ? json.Path : "augment")}': {x.Message}"); }
        return augmentation;
    }
}
