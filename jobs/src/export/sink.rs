//! Where exported rows go: a CSV or an XLSX file, written row by row so memory stays
//! flat whatever the row count (the XLSX sheet is in rust_xlsxwriter's constant-memory
//! mode, which keeps only the current row).

use std::{fs::File, io::BufWriter, path::Path};

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::Format as ExportFormat;
use crate::csv_cells;

/// One typed value of a row.
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    /// Shown with 4 decimals.
    Money(Option<Decimal>),
    Time(Option<DateTime<Utc>>),
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("writing the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the XLSX file: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("the XLSX sheet is full ({0} rows)")]
    TooManyRows(u32),
}

pub enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx(Box<XlsxSink>),
}

pub struct XlsxSink {
    workbook: Workbook,
    row: u32,
    money: Format,
    time: Format,
    path: std::path::PathBuf,
}

/// Excel's last row.
const XLSX_MAX_ROWS: u32 = 1_048_576;

impl Sink {
    pub fn create(path: &Path, format: ExportFormat, header: &[&str]) -> Result<Sink, SinkError> {
        if format == ExportFormat::Xlsx {
            let mut workbook = Workbook::new();
            let bold = Format::new()
                .set_bold()
                .set_background_color("#DDEBF7")
                .set_align(FormatAlign::Center);
            let sheet = workbook.add_worksheet_with_constant_memory()?;
            for (col, name) in header.iter().enumerate() {
                let col = u16::try_from(col).unwrap_or(u16::MAX);
                sheet.write_string_with_format(0, col, *name, &bold)?;
                sheet.set_column_width(col, (name.len() as f64 + 4.0).max(12.0))?;
            }
            sheet.set_freeze_panes(1, 0)?;
            return Ok(Sink::Xlsx(Box::new(XlsxSink {
                workbook,
                row: 1,
                money: Format::new().set_num_format("0.0000"),
                time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
                path: path.to_owned(),
            })));
        }
        let file = File::create(path).map_err(csv::Error::from)?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(header)?;
        Ok(Sink::Csv(Box::new(writer)))
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), SinkError> {
        match self {
            Sink::Csv(w) => {
                let record: Vec<String> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(v) => v
                            .as_deref()
                            .map(|t| csv_cells::text(t).into_owned())
                            .unwrap_or_default(),
                        Cell::Int(v) => v.map(|n| n.to_string()).unwrap_or_default(),
                        Cell::Money(v) => v.map(|d| format!("{d:.4}")).unwrap_or_default(),
                        Cell::Time(v) => v.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    })
                    .collect();
                w.write_record(&record)?;
            }
            Sink::Xlsx(x) => {
                if x.row >= XLSX_MAX_ROWS {
                    return Err(SinkError::TooManyRows(XLSX_MAX_ROWS));
                }
                let row = x.row;
                let sheet = x.workbook.worksheet_from_index(0)?;
                for (col, cell) in cells.iter().enumerate() {
                    let col = u16::try_from(col).unwrap_or(u16::MAX);
                    match cell {
                        Cell::Text(Some(s)) => {
                            sheet.write_string(row, col, s)?;
                        }
                        Cell::Int(Some(n)) => {
                            sheet.write_number(row, col, *n as f64)?;
                        }
                        Cell::Money(Some(d)) => {
                            sheet.write_number_with_format(
                                row,
                                col,
                                d.to_f64().unwrap_or_default(),
                                &x.money,
                            )?;
                        }
                        Cell::Time(Some(t)) => {
                            sheet.write_datetime_with_format(row, col, t.naive_utc(), &x.time)?;
                        }
                        _ => {}
                    }
                }
                x.row += 1;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), SinkError> {
        match self {
            Sink::Csv(mut w) => {
                w.flush().map_err(csv::Error::from)?;
            }
            Sink::Xlsx(mut x) => {
                let path = x.path.clone();
                x.workbook.save(path)?;
            }
        }
        Ok(())
    }
}
