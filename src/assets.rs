//! The picture and the example site, built into the binary, so that an installed hhttpp serves them from any folder.
//!
//! `serve-binary` with no file serves [`PICTURE`]; `serve-folder` with no folder serves [`SITE`], and only its
//! files: a request can reach nothing on disk. `hhttpp check` and `trace --compare` compare against the same bytes.
//!
//! A built-in file is served the way a file on disk is: through a file descriptor. We copy its bytes into a
//! `memfd` (`memfd_create(2)`: a file that lives only in memory, with no name in any folder), seal it so that
//! nothing can change it, and hand that to the lesson. One path for both, so `read`, `sendfile` (which needs a file
//! descriptor to send from), HEAD and the transcript's file descriptors are the same as for a file you name. A
//! production server would send the bytes straight from memory; we pay one `memfd_create` and one `write` per file
//! to keep the lesson's calls those of a file.

use std::fs::File;
use std::io::{self, Seek, Write};

use rustix::fs::{MemfdFlags, SealFlags};

/// One file built into the binary.
#[derive(Debug)]
pub struct Asset {
    /// Its name: `ice-caps.jpg`. In the repository it is under `assets/` (the picture) or `assets/site/`.
    pub name: &'static str,
    /// Its bytes, as they were when hhttpp was built.
    pub bytes: &'static [u8],
}

/// The blog's picture, `assets/ice-caps.jpg`.
pub static PICTURE: Asset = Asset { name: "ice-caps.jpg", bytes: include_bytes!("../assets/ice-caps.jpg") };

/// The example site, every file of `assets/site/` (a test keeps this list and the folder in step).
pub static SITE: [Asset; 3] = [
    Asset { name: "index.html", bytes: include_bytes!("../assets/site/index.html") },
    Asset { name: "style.css", bytes: include_bytes!("../assets/site/style.css") },
    Asset { name: "ice-caps.jpg", bytes: include_bytes!("../assets/site/ice-caps.jpg") },
];

impl Asset {
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A sealed memfd that holds its bytes, its offset at 0: `memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING)`,
    /// `write`, then `fcntl(F_ADD_SEALS)` so that it can neither grow, shrink nor change.
    pub fn memfd(&self) -> io::Result<File> {
        let fd = rustix::fs::memfd_create(self.name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        let mut file = File::from(fd);
        file.write_all(self.bytes)?;
        file.rewind()?;
        rustix::fs::fcntl_add_seals(&file, SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE)?;
        Ok(file)
    }
}

/// The built-in site's file called `name` (`index.html`).
pub fn site_file(name: &str) -> Option<&'static Asset> {
    SITE.iter().find(|asset| asset.name == name)
}

/// The built-in site's file names, for the transcript: `index.html, style.css, ice-caps.jpg`.
pub fn site_names() -> String {
    SITE.iter().map(|asset| asset.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_site_is_every_file_of_assets_site() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/site");
        let mut on_disk: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        on_disk.sort();
        let mut built_in: Vec<String> = SITE.iter().map(|a| a.name.to_string()).collect();
        built_in.sort();
        assert_eq!(built_in, on_disk, "a file added to assets/site must be added to SITE too");
        for asset in &SITE {
            assert_eq!(asset.bytes, std::fs::read(format!("{dir}/{}", asset.name)).unwrap(), "{}", asset.name);
        }
    }

    #[test]
    fn a_memfd_holds_the_bytes_and_cannot_change() {
        let mut file = PICTURE.memfd().unwrap();
        assert_eq!(file.metadata().unwrap().len(), PICTURE.size());
        let mut read = Vec::new();
        file.read_to_end(&mut read).unwrap();
        assert_eq!(read, PICTURE.bytes);
        assert!(file.write_all(b"x").is_err(), "sealed against writes");
        assert!(file.set_len(1).is_err(), "sealed against shrinking");
    }
}
