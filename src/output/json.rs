//! NDJSON. (Placeholder until the real printer lands.)
use super::Sink;
use crate::event::Event;
use std::io::Write;
pub struct JsonPrinter {
    out: Box<dyn Write>,
}
impl JsonPrinter {
    pub fn new(out: Box<dyn Write>) -> Self {
        JsonPrinter { out }
    }
}
impl Sink for JsonPrinter {
    fn event(&mut self, ev: &Event) {
        let _ = writeln!(self.out, "{ev:?}");
    }
    fn finish(&mut self) {
        let _ = self.out.flush();
    }
}
