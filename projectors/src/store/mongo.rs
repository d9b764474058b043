//! View documents in MongoDB: one collection per generation, and a `read_models` collection holding each
//! view's active generation and checkpoints.

use std::collections::HashMap;

use eventstore::Position;
use futures::TryStreamExt;
use mongodb::IndexModel;
use mongodb::bson::{self, Bson, Document, doc};

use super::{ReadStores, StoreError, collection_name};
use crate::view::{Versioned, View};

const POINTERS: &str = "read_models";

async fn pointer(stores: &ReadStores, view: &str) -> Result<Option<Document>, StoreError> {
    Ok(stores
        .mongo
        .collection::<Document>(POINTERS)
        .find_one(doc! {"_id": view})
        .await?)
}

pub async fn active_generation(stores: &ReadStores, view: &str) -> Result<u64, StoreError> {
    let generation = pointer(stores, view)
        .await?
        .and_then(|d| d.get_i64("active").ok())
        .unwrap_or(0);
    Ok(generation.max(0) as u64)
}

pub async fn activate(stores: &ReadStores, view: &str, generation: u64) -> Result<(), StoreError> {
    stores
        .mongo
        .collection::<Document>(POINTERS)
        .update_one(
            doc! {"_id": view},
            doc! {"$set": {"active": generation as i64}},
        )
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn checkpoint(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<Option<String>, StoreError> {
    Ok(pointer(stores, view).await?.and_then(|d| {
        d.get_document("checkpoints")
            .ok()
            .and_then(|c| c.get_str(format!("g{generation}")).ok().map(str::to_owned))
    }))
}

fn to_document<V: View>(key: &str, doc: &Versioned<V>) -> Result<Document, StoreError> {
    let mut document = bson::to_document(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    document.insert("_id", key);
    Ok(document)
}

fn from_document<V: View>(mut document: Document) -> Result<(String, Versioned<V>), StoreError> {
    let key = match document.remove("_id") {
        Some(Bson::String(key)) => key,
        other => return Err(StoreError::Corrupt(format!("document id {other:?}"))),
    };
    let doc = bson::from_document(document).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((key, doc))
}

pub async fn load<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    keys: &[String],
) -> Result<HashMap<String, Versioned<V>>, StoreError> {
    let collection = stores
        .mongo
        .collection::<Document>(&collection_name(view, generation));
    let cursor = collection.find(doc! {"_id": {"$in": keys}}).await?;
    let documents: Vec<Document> = cursor.try_collect().await?;
    documents.into_iter().map(from_document).collect()
}

pub async fn save<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    docs: &[(String, Versioned<V>)],
    checkpoint: Position,
) -> Result<(), StoreError> {
    save_documents(stores, view, generation, docs).await?;
    stores
        .mongo
        .collection::<Document>(POINTERS)
        .update_one(
            doc! {"_id": view},
            doc! {"$set": {format!("checkpoints.g{generation}"): checkpoint.to_string()}},
        )
        .upsert(true)
        .await?;
    Ok(())
}

/// Writes each document once, without a checkpoint.
pub async fn save_documents<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    docs: &[(String, Versioned<V>)],
) -> Result<(), StoreError> {
    if !docs.is_empty() {
        // One `update` command with a statement per document: one round trip for the whole batch.
        let updates = docs
            .iter()
            .map(|(key, doc)| {
                Ok(doc! {"q": {"_id": key}, "u": to_document(key, doc)?, "upsert": true})
            })
            .collect::<Result<Vec<Document>, StoreError>>()?;
        let answer = stores
            .mongo
            .run_command(doc! {
                "update": collection_name(view, generation),
                "updates": updates,
                "ordered": false,
            })
            .await?;
        if let Ok(errors) = answer.get_array("writeErrors")
            && !errors.is_empty()
        {
            return Err(StoreError::Corrupt(format!(
                "MongoDB refused writes: {errors:?}"
            )));
        }
    }
    Ok(())
}

/// Creates the view's indexes on a generation's collection (a no-op for those that exist).
pub async fn create_indexes<V: View>(
    stores: &ReadStores,
    generation: u64,
) -> Result<(), StoreError> {
    if V::INDEXES.is_empty() {
        return Ok(());
    }
    let models = V::INDEXES.iter().map(|fields| {
        let keys: Document = fields
            .iter()
            .map(|(field, direction)| ((*field).to_owned(), Bson::Int32(*direction)))
            .collect();
        IndexModel::builder().keys(keys).build()
    });
    stores
        .mongo
        .collection::<Document>(&collection_name(V::NAME, generation))
        .create_indexes(models)
        .await?;
    Ok(())
}

/// Inserts documents into a generation that has none of them (a build), then writes the checkpoint.
pub async fn insert_new<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
    docs: &[(String, Versioned<V>)],
    checkpoint: Position,
) -> Result<(), StoreError> {
    let documents = docs
        .iter()
        .map(|(key, doc)| to_document(key, doc))
        .collect::<Result<Vec<Document>, StoreError>>()?;
    if !documents.is_empty() {
        stores
            .mongo
            .collection::<Document>(&collection_name(view, generation))
            .insert_many(documents)
            .ordered(false)
            .await?;
    }
    save::<V>(stores, view, generation, &[], checkpoint).await
}

pub async fn all<V: View>(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<HashMap<String, Versioned<V>>, StoreError> {
    let collection = stores
        .mongo
        .collection::<Document>(&collection_name(view, generation));
    let documents: Vec<Document> = collection.find(doc! {}).await?.try_collect().await?;
    documents.into_iter().map(from_document).collect()
}

pub async fn drop_generation(
    stores: &ReadStores,
    view: &str,
    generation: u64,
) -> Result<(), StoreError> {
    stores
        .mongo
        .collection::<Document>(&collection_name(view, generation))
        .drop()
        .await?;
    stores
        .mongo
        .collection::<Document>(POINTERS)
        .update_one(
            doc! {"_id": view},
            doc! {"$unset": {format!("checkpoints.g{generation}"): ""}},
        )
        .await?;
    Ok(())
}
