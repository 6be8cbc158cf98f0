//! Uploaded images: decoded whole and stored as a fresh copy, never as the bytes that came in.
//!
//! Judging a file by its first bytes lets through anything with the right prefix (`GIF89a not
//! really`, a real PNG header with an HTML page behind it) and publishes what the camera wrote
//! into it (a profile photo's GPS position). So every upload is decoded under limits on its
//! dimensions and memory, turned upright by its EXIF orientation, and encoded again: what is
//! stored holds pixels and nothing else. Animated GIF and WebP keep their first frame.
//!
//! This is CPU work of up to a few hundred milliseconds: `App::images` runs it off the async
//! workers, a bounded number at a time.

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

pub use crate::config::ImageLimits;
use crate::store::objects::{ImageKind, ObjectError, ObjectStore};

/// What an uploaded image is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A diary's drawing: kept at its size.
    Drawing,
    /// A profile picture: scaled down to fit `ImageLimits::profile_max_side`.
    Profile,
}

/// An image that decoded within the limits, re-encoded without metadata.
#[derive(Debug, Clone)]
pub struct CleanImage {
    pub kind: ImageKind,
    pub bytes: Bytes,
    pub width: u32,
    pub height: u32,
}

const PNG: ImageKind = ImageKind {
    extension: "png",
    mime: "image/png",
};
const JPEG: ImageKind = ImageKind {
    extension: "jpg",
    mime: "image/jpeg",
};
const JPEG_QUALITY: u8 = 90;
/// The widest side any decoder is allowed, whatever the pixel budget (JPEG's own maximum).
const MAX_SIDE: u32 = 65_535;

fn accepted(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::Gif
            | ImageFormat::WebP
            | ImageFormat::Bmp
    )
}

fn not_an_image() -> ObjectError {
    ObjectError::Rejected("이미지 파일(PNG, JPEG, GIF, WebP, BMP)만 올릴 수 있습니다.".into())
}

fn unreadable() -> ObjectError {
    ObjectError::Rejected(
        "이미지 파일을 읽을 수 없습니다. 손상되었거나 지원하지 않는 형식입니다.".into(),
    )
}

fn too_many_pixels(width: u32, height: u32, limits: &ImageLimits) -> ObjectError {
    ObjectError::Oversized(format!(
        "이미지가 너무 큽니다({width}×{height}). 최대 {}만 화소까지 올릴 수 있습니다.",
        limits.max_pixels / 10_000
    ))
}

/// Decodes `bytes` within `limits` and encodes the picture again: PNG for every lossless or
/// paletted source, JPEG (quality 90) for a JPEG. A profile picture is scaled to fit.
pub fn clean(
    bytes: &[u8],
    purpose: Purpose,
    limits: &ImageLimits,
) -> Result<CleanImage, ObjectError> {
    if bytes.is_empty() {
        return Err(ObjectError::Rejected("이미지 파일이 비어 있습니다.".into()));
    }
    let format = image::guess_format(bytes).map_err(|_| not_an_image())?;
    if format == ImageFormat::Avif {
        return Err(ObjectError::Rejected(
            "AVIF 이미지는 받지 않습니다. PNG, JPEG, GIF, WebP 또는 BMP로 올려 주세요.".into(),
        ));
    }
    if !accepted(format) {
        return Err(not_an_image());
    }

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(MAX_SIDE);
    decoder_limits.max_image_height = Some(MAX_SIDE);
    // 16-bit RGBA is the widest pixel any accepted format decodes to; the slack covers the
    // decoders' own buffers.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8) + (16 << 20));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(unreadable());
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_many_pixels(width, height, limits));
    }
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, limits))?;
    if let Some(o) = orientation {
        picture.apply_orientation(o);
    }
    if purpose == Purpose::Profile {
        let side = limits.profile_max_side;
        if picture.width() > side || picture.height() > side {
            picture = picture.thumbnail(side, side);
        }
    }

    let mut out = Cursor::new(Vec::new());
    let kind = if format == ImageFormat::Jpeg {
        // JPEG has no alpha; what a JPEG decodes to is grey or colour.
        let rgb = match picture {
            DynamicImage::ImageLuma8(_) => picture,
            other => DynamicImage::ImageRgb8(other.into_rgb8()),
        };
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
            .map_err(encode_error)?;
        picture = rgb;
        JPEG
    } else {
        picture
            .write_to(&mut out, ImageFormat::Png)
            .map_err(encode_error)?;
        PNG
    };
    Ok(CleanImage {
        kind,
        bytes: Bytes::from(out.into_inner()),
        width: picture.width(),
        height: picture.height(),
    })
}

fn decode_error(e: image::ImageError, limits: &ImageLimits) -> ObjectError {
    match e {
        image::ImageError::Limits(_) => ObjectError::Oversized(format!(
            "이미지가 너무 큽니다. 최대 {}만 화소까지 올릴 수 있습니다.",
            limits.max_pixels / 10_000
        )),
        image::ImageError::Unsupported(_) => not_an_image(),
        _ => unreadable(),
    }
}

fn encode_error(e: image::ImageError) -> ObjectError {
    // Every decoded colour type has an encoder here; failing is our bug, not the client's.
    ObjectError::Backend(format!("re-encoding an uploaded image: {e}"))
}

/// Stores a cleaned image under `area` and returns its key and public URL.
pub async fn store(
    store: &dyn ObjectStore,
    area: &str,
    image: CleanImage,
) -> Result<(String, String), ObjectError> {
    let key = crate::store::objects::new_key(area, image.kind);
    store.put(&key, image.bytes, image.kind.mime).await?;
    let url = store.url_for(&key);
    Ok((key, url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbaImage::from_fn(width, height, |x, y| Rgba([x as u8, y as u8, 200, 255]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, _| Rgb([x as u8, 80, 160]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_polyglot_keeps_its_pixels_and_loses_its_tail() {
        let mut bytes = png(4, 3);
        bytes.extend_from_slice(b"<html><script>alert(1)</script></html>");
        let clean = clean(&bytes, Purpose::Drawing, &ImageLimits::default()).unwrap();
        assert_eq!(clean.kind.mime, "image/png");
        assert_eq!((clean.width, clean.height), (4, 3));
        assert!(!clean.bytes.windows(7).any(|w| w == b"<script"));
        let back = image::load_from_memory(&clean.bytes).unwrap().to_rgba8();
        assert_eq!(back.get_pixel(3, 2), &Rgba([3, 2, 200, 255]));
    }

    #[test]
    fn a_prefix_alone_is_not_an_image() {
        let limits = ImageLimits::default();
        // Read as a header, " not really" claims 28192×29807 pixels: refused for its size.
        assert!(matches!(
            clean(b"GIF89a not really", Purpose::Drawing, &limits),
            Err(ObjectError::Oversized(_))
        ));
        for fake in [
            &b"GIF89a\x01\x00\x01\x00 then text"[..],
            b"\x89PNG\r\n\x1a\n and then text",
            b"\xFF\xD8\xFF\xE0 broken jpeg",
            b"<svg onload=alert(1)>",
            b"",
        ] {
            assert!(
                matches!(
                    clean(fake, Purpose::Drawing, &limits),
                    Err(ObjectError::Rejected(_))
                ),
                "{fake:?}"
            );
        }
    }

    #[test]
    fn profile_pictures_are_scaled_to_fit() {
        let limits = ImageLimits {
            profile_max_side: 64,
            ..ImageLimits::default()
        };
        let clean = clean(&png(300, 150), Purpose::Profile, &limits).unwrap();
        assert_eq!((clean.width, clean.height), (64, 32));
        let small = super::clean(&png(30, 15), Purpose::Profile, &limits).unwrap();
        assert_eq!((small.width, small.height), (30, 15));
        let drawing = super::clean(&png(300, 150), Purpose::Drawing, &limits).unwrap();
        assert_eq!((drawing.width, drawing.height), (300, 150));
    }

    /// CRC-32 (ISO-HDLC), as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG that claims `width`×`height` RGBA pixels of one colour. A real one of 20000×20000
    /// is a few hundred KB that decode to 1.6 GB; the decoder must refuse it by its header,
    /// so a header and the start of the pixel data make the same file as far as it gets.
    fn png_bomb(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32(&body).to_be_bytes());
        };
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        // zlib: a stored block of zero bytes (the first rows), unfinished.
        let mut idat = vec![0x78, 0x01, 0x00, 0x00, 0x10, 0xFF, 0xEF];
        idat.extend_from_slice(&[0; 4096]);
        chunk(b"IDAT", &idat);
        out
    }

    #[test]
    fn a_decompression_bomb_is_refused_by_its_header() {
        let limits = ImageLimits::default();
        for (w, h) in [(20_000, 20_000), (60_000, 500), (5_000, 5_000)] {
            let bomb = png_bomb(w, h);
            assert!(
                matches!(
                    clean(&bomb, Purpose::Drawing, &limits),
                    Err(ObjectError::Oversized(_))
                ),
                "{w}×{h}"
            );
        }
        // Within the limit, the same kind of file is only what it is: unreadable (cut short).
        assert!(matches!(
            clean(&png_bomb(100, 100), Purpose::Drawing, &limits),
            Err(ObjectError::Rejected(_))
        ));
    }

    #[test]
    fn a_photo_stays_a_jpeg() {
        let clean = clean(&jpeg(40, 30), Purpose::Drawing, &ImageLimits::default()).unwrap();
        assert_eq!(
            (clean.kind.mime, clean.width, clean.height),
            ("image/jpeg", 40, 30)
        );
        assert_eq!(
            image::guess_format(&clean.bytes).unwrap(),
            ImageFormat::Jpeg
        );
    }

    #[test]
    fn other_formats_are_stored_as_png() {
        let img = RgbImage::from_fn(5, 5, |x, y| Rgb([x as u8 * 40, y as u8 * 40, 0]));
        for format in [ImageFormat::Bmp, ImageFormat::Gif, ImageFormat::WebP] {
            let mut out = Cursor::new(Vec::new());
            DynamicImage::ImageRgb8(img.clone())
                .write_to(&mut out, format)
                .unwrap();
            let clean = clean(out.get_ref(), Purpose::Drawing, &ImageLimits::default()).unwrap();
            assert_eq!(clean.kind.mime, "image/png", "{format:?}");
            assert_eq!((clean.width, clean.height), (5, 5));
        }
    }
}
