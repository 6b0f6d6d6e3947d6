//! The durable spool: where the writer puts what the database cannot take (an outage, a long
//! lock), so that accepted events are still durable, and acknowledged, before they are stored.
//! A directory of append-only segment files of framed records (see `record`); appends are
//! fsynced before they return, segments are deleted once their records are stored. Bounded:
//! an append past `max_bytes` is refused (the writer keeps the events and sessions push back
//! with `overloaded`). Plain file I/O: the writer calls it on the blocking pool.
//!
//! Read back at start: a record cut short or damaged at the very end of the last segment is
//! what a kill in the middle of an append leaves (it was never acknowledged) and is cut off with
//! a warning; damage anywhere else stops the start with an error, rather than skipping
//! acknowledged events silently.

mod record;

use std::{
    collections::{HashMap, VecDeque},
    fs::{self, File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use self::record::{Framed, HEADER, MAX_PAYLOAD};
pub use self::record::{Record, RecordRef};
use crate::{
    error::{Error, Result},
    metrics,
};

/// A new segment is started once the last one is this big (or an eighth of the bound, if less).
const SEGMENT_BYTES: u64 = 64 << 20;
const MIN_SEGMENT_BYTES: u64 = 64 << 10;
/// Holds the directory for one hub at a time.
const LOCK_FILE: &str = "LOCK";
const SUFFIX: &str = ".seg";

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    /// Segments on disk, oldest first: (id, length).
    segments: VecDeque<(u64, u64)>,
    /// Where the oldest record not yet consumed starts: (segment id, offset).
    head: (u64, u64),
    /// The last segment, open for appends.
    tail: Option<File>,
    records: u64,
    next_id: u64,
    /// The last seq of each session among the records found at open.
    found: HashMap<String, u64>,
    /// Held while the spool is open; `None` once closed.
    lock: Option<File>,
}

/// Just past the records a `peek` returned: what `consume` moves the head to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    segment: u64,
    offset: u64,
    records: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, checking every record already there.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool> {
        let fail = |what: &str, e: std::io::Error| {
            Error::Startup(format!("spool {}: {what}: {e}", dir.display()))
        };
        fs::create_dir_all(dir).map_err(|e| fail("cannot create it", e))?;
        let lock = File::create(dir.join(LOCK_FILE)).map_err(|e| fail("cannot lock it", e))?;
        let flags = rustix::fs::FlockOperation::NonBlockingLockExclusive;
        if rustix::fs::flock(&lock, flags).is_err() {
            return Err(Error::Startup(format!(
                "spool {}: another hub is using it (set --spool-dir)",
                dir.display()
            )));
        }
        let mut ids = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| fail("cannot list it", e))? {
            let name = entry.map_err(|e| fail("cannot list it", e))?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_suffix(SUFFIX)
                .and_then(|n| n.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let mut spool = Spool {
            dir: dir.to_owned(),
            max_bytes,
            segment_bytes: (max_bytes / 8).clamp(MIN_SEGMENT_BYTES, SEGMENT_BYTES),
            segments: VecDeque::new(),
            head: (ids.first().copied().unwrap_or(1), 0),
            tail: None,
            records: 0,
            next_id: ids.last().map_or(1, |id| id + 1),
            found: HashMap::new(),
            lock: Some(lock),
        };
        for (i, id) in ids.iter().enumerate() {
            let len = spool.check(*id, i + 1 == ids.len())?;
            spool.segments.push_back((*id, len));
        }
        if spool.records == 0 {
            // Nothing to keep (segments emptied by a cut tail): start clean.
            spool.clear()?;
        }
        spool.publish();
        Ok(spool)
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:020}{SUFFIX}"))
    }

    /// Counts a segment's records and returns its length, cutting off a torn tail when `last`.
    fn check(&mut self, id: u64, last: bool) -> Result<u64> {
        let path = self.path(id);
        let data =
            fs::read(&path).map_err(|e| Error::Startup(format!("{}: {e}", path.display())))?;
        let mut at = 0;
        loop {
            match record::unframe(&data[at..]) {
                Framed::Whole(payload, used) => {
                    let r =
                        record::decode(payload).map_err(|e| damaged(&path, at, &e.to_string()))?;
                    if let Some(last) = r.events.last() {
                        self.found.insert(r.session_id, last.seq);
                    }
                    self.records += 1;
                    at += used;
                }
                Framed::End => return Ok(at as u64),
                bad if last && torn(&data[at..], &bad) => {
                    log::warn!(
                        "spool {}: cutting off {} bytes of a record not written in full at byte \
                         {at} (the hub stopped while appending it; it was never acknowledged)",
                        path.display(),
                        data.len() - at
                    );
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_len(at as u64).and_then(|_| f.sync_all()));
                    f.map_err(|e| Error::Startup(format!("{}: {e}", path.display())))?;
                    return Ok(at as u64);
                }
                _ => return Err(damaged(&path, at, "a damaged record before the end")),
            }
        }
    }

    /// Appends records and makes them durable (fsync) before returning; `overloaded` when they
    /// would take the spool past its bound.
    pub fn append(&mut self, records: &[RecordRef<'_>]) -> Result<()> {
        self.check_open()?;
        let mut buf = Vec::new();
        for r in records {
            record::frame(&mut buf, r);
        }
        if self.bytes() + buf.len() as u64 > self.max_bytes {
            return Err(Error::Overloaded);
        }
        let (id, len) = self.tail_segment()?;
        let Some(tail) = self.tail.as_mut() else {
            return Err(Error::internal("spool: no segment open"));
        };
        let written = tail.write_all(&buf).and_then(|_| tail.sync_data());
        if let Err(e) = written {
            // Leave no partial record behind: the next append would follow it.
            let _ = tail.set_len(len);
            self.tail = None;
            return Err(Error::internal(format!("spool segment {id}: {e}")));
        }
        if let Some(last) = self.segments.back_mut() {
            last.1 += buf.len() as u64;
        }
        self.records += records.len() as u64;
        self.publish();
        Ok(())
    }

    /// The segment appends go to (id, length), starting a new one when the last is full.
    fn tail_segment(&mut self) -> Result<(u64, u64)> {
        let io = |e: std::io::Error| Error::internal(format!("spool: {e}"));
        match self.segments.back().copied() {
            Some((id, len)) if len < self.segment_bytes => {
                if self.tail.is_none() {
                    self.tail = Some(
                        OpenOptions::new()
                            .append(true)
                            .open(self.path(id))
                            .map_err(io)?,
                    );
                }
                Ok((id, len))
            }
            _ => {
                let id = self.next_id;
                let file = OpenOptions::new()
                    .append(true)
                    .create_new(true)
                    .open(self.path(id))
                    .map_err(io)?;
                sync_dir(&self.dir).map_err(io)?;
                self.next_id += 1;
                if self.segments.is_empty() {
                    self.head = (id, 0);
                }
                self.segments.push_back((id, 0));
                self.tail = Some(file);
                Ok((id, 0))
            }
        }
    }

    /// The oldest records not yet consumed, in order, about `max_bytes` of them (at least one).
    pub fn peek(&self, max_bytes: usize) -> Result<(Vec<Record>, Position)> {
        let mut out = Vec::new();
        let mut pos = Position {
            segment: self.head.0,
            offset: self.head.1,
            records: 0,
        };
        let mut bytes = 0;
        for &(id, len) in self.segments.iter().filter(|s| s.0 >= self.head.0) {
            let start = if id == self.head.0 { self.head.1 } else { 0 };
            pos = Position {
                segment: id,
                offset: start,
                records: pos.records,
            };
            if start >= len {
                continue;
            }
            let path = self.path(id);
            let io = |e: std::io::Error| Error::internal(format!("{}: {e}", path.display()));
            let mut file = std::io::BufReader::new(File::open(&path).map_err(io)?);
            file.seek(SeekFrom::Start(start)).map_err(io)?;
            while pos.offset < len && bytes < max_bytes {
                let mut header = [0; HEADER];
                file.read_exact(&mut header).map_err(io)?;
                let n = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
                if n > MAX_PAYLOAD {
                    return Err(damaged(&path, pos.offset as usize, "a length out of range"));
                }
                let mut frame = header.to_vec();
                frame.resize(HEADER + n, 0);
                file.read_exact(&mut frame[HEADER..]).map_err(io)?;
                let Framed::Whole(payload, used) = record::unframe(&frame) else {
                    return Err(damaged(&path, pos.offset as usize, "a bad checksum"));
                };
                out.push(record::decode(payload)?);
                bytes += used;
                pos.offset += used as u64;
                pos.records += 1;
            }
            if bytes >= max_bytes {
                break;
            }
        }
        Ok((out, pos))
    }

    /// Forgets the records up to `to` (they are stored), deleting the segments left behind.
    pub fn consume(&mut self, to: Position) -> Result<()> {
        self.check_open()?;
        self.records = self.records.saturating_sub(to.records);
        self.head = (to.segment, to.offset);
        let mut removed = false;
        while let Some(&(id, len)) = self.segments.front() {
            let passed = id < self.head.0 || (id == self.head.0 && self.head.1 >= len);
            let last = self.segments.len() == 1;
            if !passed || (last && self.records > 0) {
                break;
            }
            if last {
                self.tail = None;
            }
            fs::remove_file(self.path(id)).map_err(|e| Error::internal(format!("spool: {e}")))?;
            self.segments.pop_front();
            removed = true;
        }
        match self.segments.front() {
            Some(&(id, _)) if id > self.head.0 => self.head = (id, 0),
            Some(_) => {}
            None => self.head = (self.next_id, 0),
        }
        if removed {
            sync_dir(&self.dir).map_err(|e| Error::internal(format!("spool: {e}")))?;
        }
        self.publish();
        Ok(())
    }

    /// Lets the directory go (the hub stops; another may open it), refusing anything after.
    pub fn close(&mut self) {
        self.tail = None;
        self.lock = None;
    }

    fn check_open(&self) -> Result<()> {
        match self.lock {
            Some(_) => Ok(()),
            None => Err(Error::internal("the spool is closed")),
        }
    }

    /// Deletes every segment (when none holds a record).
    fn clear(&mut self) -> Result<()> {
        for (id, _) in std::mem::take(&mut self.segments) {
            fs::remove_file(self.path(id)).map_err(|e| Error::Startup(format!("spool: {e}")))?;
        }
        self.tail = None;
        self.head = (self.next_id, 0);
        sync_dir(&self.dir).map_err(|e| Error::Startup(format!("spool: {e}")))
    }

    /// The last seq of each session among the records found at open (taken once).
    pub fn take_found(&mut self) -> HashMap<String, u64> {
        std::mem::take(&mut self.found)
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Records not yet stored.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes on disk (stored records count until their segment is deleted).
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.1).sum()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn publish(&self) {
        metrics::SPOOL_BYTES.set(self.bytes() as i64);
        metrics::SPOOL_RECORDS.set(self.records as i64);
    }
}

/// Whether what is left at the end of the last segment is an append cut short by a kill: a
/// frame that runs past the end, the final frame damaged, or zeros (space the file system
/// allocated but the write never filled).
fn torn(rest: &[u8], bad: &Framed<'_>) -> bool {
    let final_frame = rest.len() >= HEADER && {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        HEADER + n == rest.len()
    };
    matches!(bad, Framed::Cut) || final_frame || rest.iter().all(|b| *b == 0)
}

fn damaged(path: &Path, at: usize, what: &str) -> Error {
    Error::Startup(format!(
        "spool segment {} has {what} at byte {at}: stopping rather than skipping acknowledged \
         events; restore the file, or move it aside to start without them",
        path.display()
    ))
}

/// Makes the creation or removal of a file in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests;
