//! The size a module costs to ship: raw, gzip and brotli (both at their best settings).

use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct WasmSizes {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

pub fn measure(bytes: &[u8]) -> std::io::Result<WasmSizes> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gzip = gz.finish()?.len() as u64;
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    Ok(WasmSizes {
        raw: bytes.len() as u64,
        gzip,
        brotli: br.len() as u64,
    })
}
