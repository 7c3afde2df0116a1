//! Draws `assets/ice-caps.jpg`: a stylised Earth seen from space, tilted so
//! both white polar ice caps show, with blue oceans, green and brown land,
//! drifting clouds, a thin blue atmosphere and a few stars on black space.
//!
//! The picture is a test fixture for `hhttpp`, which serves it over a socket
//! so learners can watch a binary body go by. Its *full* hex dump is pinned in
//! a snapshot test, so the file is kept deliberately small (at most 16 KiB,
//! checked below): a 320x200 baseline JPEG at a modest quality.
//!
//! Everything is deterministic: the land, clouds and stars come from fixed
//! hashes and a fixed-seed LCG, and the maths sticks to operations IEEE 754
//! rounds exactly (`+ - * /`, `sqrt`, `floor`, `round`; angles are written
//! out as constants rather than computed with `sin`), so every machine draws
//! the same pixels and `jpeg-encoder` writes the same bytes.
//!
//! Rerun it with
//!
//! ```text
//! cargo run --example draw_ice_caps
//! ```
//!
//! and, if the picture changed on purpose, review and accept the new
//! snapshot (`cargo insta review`).

use jpeg_encoder::{ColorType, Encoder};

/// Picture width in pixels.
const WIDTH: usize = 320;
/// Picture height in pixels.
const HEIGHT: usize = 200;
/// JPEG quality, 1..=100; below 90 the encoder also subsamples chroma 4:2:0.
const QUALITY: u8 = 88;
/// The snapshot test pins the whole hex dump, so the file must stay small.
const MAX_BYTES: usize = 16 * 1024;
/// Where the picture goes.
const OUT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/ice-caps.jpg");
/// The same picture in the example site that `hhttpp lesson serve-folder` serves (a copy, not a symlink: the
/// lesson refuses links that lead out of its folder).
const SITE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/site/ice-caps.jpg");

/// Centre and radius of the globe, in pixels.
const CENTRE_X: f64 = 160.0;
const CENTRE_Y: f64 = 100.0;
const RADIUS: f64 = 84.0;
/// How far the atmosphere's glow reaches beyond the globe, as a fraction of the radius.
const HALO: f64 = 0.09;

/// sin and cos of the 4 degree tilt of the north pole towards the viewer.
const TILT_SIN: f64 = 0.069_756_473_744_125_3;
const TILT_COS: f64 = 0.997_564_050_259_824_2;
/// sin and cos of the 14 degree roll of the axis to the right.
const ROLL_SIN: f64 = 0.241_921_895_599_667_7;
const ROLL_COS: f64 = 0.970_295_726_275_996_5;

/// sin of 52 degrees: ice covers latitudes above about this.
const ICE_LATITUDE: f64 = 0.788_010_753_606_722;

type Rgb = [f64; 3];

const SPACE: Rgb = [2.0, 3.0, 8.0];
const DEEP_OCEAN: Rgb = [8.0, 36.0, 104.0];
const SHALLOW_OCEAN: Rgb = [22.0, 96.0, 168.0];
const LOWLAND: Rgb = [52.0, 118.0, 46.0];
const HIGHLAND: Rgb = [128.0, 104.0, 62.0];
const TUNDRA: Rgb = [96.0, 110.0, 88.0];
const ICE: Rgb = [236.0, 244.0, 252.0];
const CLOUD: Rgb = [250.0, 250.0, 252.0];
const AIR: Rgb = [90.0, 150.0, 255.0];

/// A tiny linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
}

/// A fixed pseudo-random value in `0.0..1.0` for an integer lattice point.
fn hash3(x: i64, y: i64, z: i64) -> f64 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (z as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

fn mix(a: Rgb, b: Rgb, t: f64) -> Rgb {
    [lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)]
}

/// The brighter of two colours, channel by channel.
fn brighter(a: Rgb, b: Rgb) -> Rgb {
    [a[0].max(b[0]), a[1].max(b[1]), a[2].max(b[2])]
}

fn smoothstep(edge0: f64, edge1: f64, x: f64) -> f64 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth value noise in `0.0..1.0` over 3-D space.
fn value_noise(p: Rgb) -> f64 {
    let cell = p.map(f64::floor);
    let [fx, fy, fz] = [0, 1, 2].map(|i| {
        let f = p[i] - cell[i];
        f * f * (3.0 - 2.0 * f)
    });
    let [ix, iy, iz] = cell.map(|c| c as i64);
    let corner = |dx, dy, dz| hash3(ix + dx, iy + dy, iz + dz);
    let x00 = lerp(corner(0, 0, 0), corner(1, 0, 0), fx);
    let x10 = lerp(corner(0, 1, 0), corner(1, 1, 0), fx);
    let x01 = lerp(corner(0, 0, 1), corner(1, 0, 1), fx);
    let x11 = lerp(corner(0, 1, 1), corner(1, 1, 1), fx);
    lerp(lerp(x00, x10, fy), lerp(x01, x11, fy), fz)
}

/// Fractal noise: a few octaves of value noise, roughly in `0.0..1.0`.
fn fbm(p: Rgb, octaves: u32) -> f64 {
    let (mut sum, mut amplitude, mut total, mut scale) = (0.0, 0.5, 0.0, 1.0);
    for _ in 0..octaves {
        sum += amplitude * value_noise(p.map(|c| c * scale));
        total += amplitude;
        amplitude *= 0.5;
        scale *= 2.03;
    }
    sum / total
}

fn dot(a: Rgb, b: Rgb) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn normalise(v: Rgb) -> Rgb {
    let len = dot(v, v).sqrt();
    v.map(|c| c / len)
}

/// The colour of the globe at view point `(x, y)` (unit disc, y up), or
/// `None` outside it.
fn globe(x: f64, y: f64) -> Option<Rgb> {
    let d2 = x * x + y * y;
    if d2 > 1.0 {
        return None;
    }
    let z = (1.0 - d2).sqrt();
    let normal = [x, y, z];

    // Turn the view point into body coordinates: undo the roll, then the tilt.
    let rx = ROLL_COS * x + ROLL_SIN * y;
    let ry = -ROLL_SIN * x + ROLL_COS * y;
    let body = [rx, TILT_COS * ry + TILT_SIN * z, -TILT_SIN * ry + TILT_COS * z];
    let latitude = body[1].abs(); // sine of the latitude

    let land = fbm(body.map(|c| c * 1.9 + 7.3), 5);
    let sea_level = 0.56;
    let ice_edge = ICE_LATITUDE + (fbm(body.map(|c| c * 6.0 + 2.0), 3) - 0.5) * 0.16;

    let mut colour = if land < sea_level {
        let shallow = smoothstep(sea_level - 0.08, sea_level, land);
        mix(DEEP_OCEAN, SHALLOW_OCEAN, shallow)
    } else {
        let height = smoothstep(sea_level + 0.02, sea_level + 0.14, land);
        let ground = mix(LOWLAND, HIGHLAND, height);
        mix(ground, TUNDRA, smoothstep(0.62, 0.8, latitude))
    };
    colour = mix(colour, ICE, smoothstep(ice_edge - 0.015, ice_edge + 0.015, latitude));

    // Wispy clouds, stretched east-west.
    let cloud = fbm([body[0] * 3.0 + 1.0, body[1] * 11.0, body[2] * 3.0 - 3.0], 4);
    colour = mix(colour, CLOUD, smoothstep(0.64, 0.78, cloud) * 0.6);

    // Sunlight from the left, and from in front of the globe.
    let light = normalise([-0.5, 0.05, 0.86]);
    let diffuse = dot(normal, light).max(0.0);
    let mut lit = colour.map(|c| c * (0.16 + 0.9 * diffuse));

    // A soft glint of the sun on open water.
    if land < sea_level && latitude < ice_edge {
        let half = normalise([light[0], light[1], light[2] + 1.0]);
        let mut glint = dot(normal, half).max(0.0);
        for _ in 0..5 {
            glint *= glint; // glint^32
        }
        lit = lit.map(|c| c + 70.0 * glint);
    }

    // The atmosphere thickens towards the rim.
    let rim = 1.0 - z;
    let rim = rim * rim * (0.25 + 0.75 * diffuse);
    Some(mix(lit, AIR, (rim * 0.7).min(0.55)))
}

/// The glow of the atmosphere just outside the globe, as a weight in `0.0..1.0`.
fn halo(x: f64, y: f64) -> f64 {
    let d = (x * x + y * y).sqrt();
    if d <= 1.0 || d >= 1.0 + HALO {
        return 0.0;
    }
    let fade = 1.0 - (d - 1.0) / HALO;
    let sunward = ((-0.5 * x + 0.05 * y) / d * 0.5 + 0.6).clamp(0.15, 1.0);
    fade * fade * sunward * 0.9
}

/// Renders the picture as interleaved 8-bit RGB.
fn draw() -> Vec<u8> {
    const SAMPLES: usize = 3; // per axis, to smooth the globe's edge
    let mut pixels = vec![[0.0; 3]; WIDTH * HEIGHT];

    for (i, pixel) in pixels.iter_mut().enumerate() {
        let (px, py) = ((i % WIDTH) as f64, (i / WIDTH) as f64);
        let mut sum = [0.0; 3];
        for sy in 0..SAMPLES {
            for sx in 0..SAMPLES {
                let fx = px + (sx as f64 + 0.5) / SAMPLES as f64;
                let fy = py + (sy as f64 + 0.5) / SAMPLES as f64;
                let (x, y) = ((fx - CENTRE_X) / RADIUS, (CENTRE_Y - fy) / RADIUS);
                let colour = globe(x, y).unwrap_or_else(|| mix(SPACE, AIR, halo(x, y)));
                for c in 0..3 {
                    sum[c] += colour[c];
                }
            }
        }
        *pixel = sum.map(|c| c / (SAMPLES * SAMPLES) as f64);
    }

    // Stars: a fixed scatter of dim points, a few bright ones with a small cross.
    let mut rng = Lcg(0x1CE_CA95);
    for _ in 0..70 {
        let (x, y) = (rng.below(WIDTH as u32) as usize, rng.below(HEIGHT as u32) as usize);
        let brightness = 70.0 + rng.below(150) as f64;
        let (dx, dy) = ((x as f64 + 0.5 - CENTRE_X) / RADIUS, (CENTRE_Y - y as f64 - 0.5) / RADIUS);
        if (dx * dx + dy * dy).sqrt() < 1.0 + HALO + 0.05 {
            continue; // behind the Earth or its glow
        }
        let tint = [brightness * 0.95, brightness * 0.97, brightness];
        let pixel = &mut pixels[y * WIDTH + x];
        *pixel = brighter(*pixel, tint);
        if brightness > 200.0 {
            for (nx, ny) in [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)] {
                if nx < WIDTH && ny < HEIGHT {
                    let p = &mut pixels[ny * WIDTH + nx];
                    *p = brighter(*p, tint.map(|c| c * 0.35));
                }
            }
        }
    }

    pixels.iter().flat_map(|p| p.map(|c| c.round().clamp(0.0, 255.0) as u8)).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rgb = draw();

    let mut jpeg = Vec::new();
    let encoder = Encoder::new(&mut jpeg, QUALITY);
    encoder.encode(&rgb, WIDTH as u16, HEIGHT as u16, ColorType::Rgb)?;

    if jpeg.len() > MAX_BYTES {
        return Err(format!(
            "{OUT_PATH} would be {} bytes, over the {MAX_BYTES}-byte limit \
             (its full hex dump is pinned in a snapshot test); \
             lower QUALITY or the picture's size",
            jpeg.len()
        )
        .into());
    }
    if !jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err("the encoder did not write a JPEG start-of-image marker".into());
    }

    std::fs::write(OUT_PATH, &jpeg)?;
    std::fs::write(SITE_PATH, &jpeg)?;
    println!("wrote {OUT_PATH} and {SITE_PATH}: {WIDTH}x{HEIGHT}, {} bytes", jpeg.len());
    Ok(())
}
