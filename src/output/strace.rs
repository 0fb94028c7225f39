//! strace-format text. (Placeholder until the real printer lands.)
use super::{Sink, TextOpts};
use crate::event::Event;
use std::io::Write;
pub struct TextPrinter {
    out: Box<dyn Write>,
}
impl TextPrinter {
    pub fn new(out: Box<dyn Write>, _o: TextOpts) -> Self {
        TextPrinter { out }
    }
}
impl Sink for TextPrinter {
    fn event(&mut self, ev: &Event) {
        let _ = writeln!(self.out, "{ev:?}");
    }
    fn finish(&mut self) {
        let _ = self.out.flush();
    }
}
