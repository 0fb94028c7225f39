//! Summary. (Placeholder until the real printer lands.)
use super::Sink;
use crate::event::Event;
use std::io::Write;
#[derive(Default, Clone, Debug)]
pub struct SummaryOpts {
    pub histogram: bool,
}
pub struct Summary {
    out: Box<dyn Write>,
    n: usize,
}
impl Summary {
    pub fn new(out: Box<dyn Write>, _o: SummaryOpts) -> Self {
        Summary { out, n: 0 }
    }
}
impl Sink for Summary {
    fn event(&mut self, _ev: &Event) {
        self.n += 1;
    }
    fn finish(&mut self) {
        let _ = writeln!(self.out, "{} events", self.n);
        let _ = self.out.flush();
    }
}
