//! Shared by the core test binaries: an exporter that keeps every span.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Collect {
    pub spans: Arc<Mutex<Vec<neatlogs::export::SpanRecord>>>,
    pub resources: Arc<Mutex<Vec<neatlogs::export::Resource>>>,
}

impl neatlogs::export::Exporter for Collect {
    fn export(
        &mut self,
        resource: &neatlogs::export::Resource,
        batch: &[neatlogs::export::SpanRecord],
    ) -> Result<(), neatlogs::export::ExportError> {
        self.spans.lock().unwrap().extend_from_slice(batch);
        let mut r = self.resources.lock().unwrap();
        if r.is_empty() {
            r.push(resource.clone());
        }
        Ok(())
    }
}

impl Collect {
    pub fn take(&self) -> Vec<neatlogs::export::SpanRecord> {
        std::mem::take(&mut *self.spans.lock().unwrap())
    }
}
