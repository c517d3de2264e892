//! The object stores an executor reads from. A node's plans name their files by URL
//! (`s3://bucket/…`); an executor builds the store of a bucket the first time a task reads it,
//! from its own storage options (`segsync cluster executor --source-options FILE`) and the
//! platform's credential chain — credentials never travel in plans.

use std::sync::Arc;

use datafusion::common::DataFusionError;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use segsync_engine::SourceOptions;
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;

/// Stores made on demand from the executor's options, beside the local file system.
#[derive(Debug)]
pub(crate) struct SourceStores {
    options: SourceOptions,
    local: DefaultObjectStoreRegistry,
    made: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl SourceStores {
    pub(crate) fn new(options: SourceOptions) -> Self {
        Self {
            options,
            local: DefaultObjectStoreRegistry::new(),
            made: Mutex::default(),
        }
    }
}

/// `scheme://bucket`, the key of a store.
fn root(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default())
}

impl ObjectStoreRegistry for SourceStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.made().insert(root(url), store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        self.made()
            .remove(&root(url))
            .ok_or_else(|| DataFusionError::Internal(format!("no store for {url}")))
    }

    fn get_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        if url.scheme() == "file" {
            return self.local.get_store(url);
        }
        let key = root(url);
        if let Some(store) = self.made().get(&key) {
            return Ok(Arc::clone(store));
        }
        let store = segsync_engine::object_store_for(url, &self.options)
            .map_err(|error| DataFusionError::External(Box::new(error)))?;
        self.made().insert(key, Arc::clone(&store));
        Ok(store)
    }
}

impl SourceStores {
    fn made(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn ObjectStore>>> {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
