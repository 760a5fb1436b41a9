//! The core inside wasmtime. (being written)
use super::{Engine, EngineError, LayerSession, Limits};

pub struct WasmEngine;

impl WasmEngine {
    pub fn new(_limits: Limits) -> Result<Self, EngineError> {
        Err(EngineError::Setup("the wasm engine is not built yet".into()))
    }
}

impl Engine for WasmEngine {
    fn interest_json(&self) -> Result<String, EngineError> { unreachable!() }
    fn layer(&self, _diff_id: &str) -> Result<Box<dyn LayerSession>, EngineError> { unreachable!() }
    fn merge(&self, _i: &str, _l: &[String], _o: &str) -> Result<String, EngineError> { unreachable!() }
    fn render(&self, _r: &str, _f: &str) -> Result<String, EngineError> { unreachable!() }
}
